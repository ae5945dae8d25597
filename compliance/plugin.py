"""Compliance as a plugin: the ``contracts:`` section of the config and the scoring rule kinds."""

from __future__ import annotations

import compliance.scoring  # noqa: F401 - registers the built-in rule kinds' scoring functions
from compliance.config import ContractsSection
from compliance.rulekinds import load_all as load_rule_kinds
from inventory.plugins import register_section


def register() -> None:
    """The ``compliance`` entry point of ``yunwei.plugins``."""
    load_rule_kinds()
    register_section("contracts", ContractsSection, list)
