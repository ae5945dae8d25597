"""Compliance as a plugin: the ``contracts:`` section of the config."""

from __future__ import annotations

from compliance.config import ContractsSection
from inventory.plugins import register_section


def register() -> None:
    """The ``compliance`` entry point of ``yunwei.plugins``."""
    register_section("contracts", ContractsSection, list)
