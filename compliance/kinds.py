"""Scoring rule kinds by name: the model a contract's rule is validated by, and the function
that scores it (``compliance.rules.run_rule``).

A new kind is one module calling ``register_rule_kind(Model, evaluate)``: the model (a
``RuleBase`` with ``kind: Literal["..."]``) joins the ``rules:`` union of a contract's parts
(built from ``RULE_MODELS``, rebuilt when a kind registers late) and ``evaluate(rule, ctx) ->
RuleResult`` scores it. Nothing central changes; ``compliance.plugin`` imports the modules of
``compliance/rulekinds/``, and a plugin package registers its own the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_args

from pydantic import BaseModel

from inventory.plugins import Registry

M = TypeVar("M", bound=type[BaseModel])


def kind_of(model: type[BaseModel]) -> str:
    """The value of the model's ``kind: Literal["..."]`` field."""
    field = model.model_fields.get("kind")
    values = get_args(field.annotation) if field is not None else ()
    if len(values) != 1 or not isinstance(values[0], str):
        raise ValueError(f"{model.__qualname__}: a rule model needs kind: Literal['<name>']")
    return values[0]


@dataclass(frozen=True)
class RuleKind:
    model: type[BaseModel]
    evaluate: Callable[[Any, Any], Any]  # (rule, RuleContext) -> RuleResult

    @property
    def name(self) -> str:
        return kind_of(self.model)

    @property
    def description(self) -> str:
        return (self.model.__doc__ or "").strip().split("\n")[0]


RULE_MODELS: Registry[type[BaseModel]] = Registry("scoring rule kind", kind_of)
RULE_KINDS: Registry[RuleKind] = Registry("scoring rule kind", lambda kind: kind.name)


def rule_model(model: M) -> M:
    """Class decorator for the built-in models (their evaluators register in compliance.rules)."""
    return RULE_MODELS.register(model)


def register_rule_kind(model: type[BaseModel], evaluate: Callable[[Any, Any], Any]) -> RuleKind:
    """Make a rule kind known: its model validates contracts, ``evaluate`` scores it."""
    kind = RuleKind(model, evaluate)
    RULE_KINDS.register(kind)
    RULE_MODELS.register(model)
    return kind


def unregister_rule_kind(name: str) -> None:
    RULE_KINDS.unregister(name)
    RULE_MODELS.unregister(name)


def rule_union() -> Any:
    """The ``rules:`` item type: the registered models, picked by ``kind:``."""
    return RULE_MODELS.union(lambda model: model, "kind")
