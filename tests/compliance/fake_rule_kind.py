"""A test-only scoring rule kind: one module plus its registration, nothing central edited.

``kind: test_per_record``: deduct ``points`` for every record of kind ``record`` in the period."""

from __future__ import annotations

from typing import Literal

from compliance.kinds import register_rule_kind
from compliance.rule_models import RuleBase
from compliance.rules import ZERO, Item, RuleContext, RuleResult, frac


class PerRecordRule(RuleBase):
    """Points off per record of a kind."""

    kind: Literal["test_per_record"]
    record: str
    points: float


def per_record(rule: PerRecordRule, ctx: RuleContext) -> RuleResult:
    items = [Item(rule.id or rule.kind, -frac(rule.points), f"{rule.record} at {r.at:.0f}") for r in ctx.in_period(rule.record)]
    return RuleResult(sum((i.points for i in items), ZERO), ZERO, items)


KIND = register_rule_kind(PerRecordRule, per_record)
