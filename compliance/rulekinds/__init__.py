"""Scoring rule kinds beyond the built-in ones (compliance.rules), one module each.

A module here defines its model (``kind: Literal["<name>"]``, a ``compliance.rule_models.RuleBase``)
and its scoring function, and calls ``compliance.kinds.register_rule_kind(Model, evaluate)``;
``load_all`` (called by the ``compliance`` entry point of ``yunwei.plugins``) imports it.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache


@cache
def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
