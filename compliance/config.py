"""Contract references (the ``contracts:`` section of the config)."""

from __future__ import annotations

from typing import Any

ContractsSection = list[Any]
