"""Threshold rules on sample metrics: ``metric op value`` for ``for_rounds`` consecutive samples.

Generic on purpose: any collector's metric (``loss_percent``, ``rtt_seconds``,
``cert_days_left``, a UPS's runtime …) is usable by name without code. A rule sees only
samples that answered (``ok``) from devices that are not down and not in maintenance: a dead
line's 100 % loss is the down fault, not a second one.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from alerting.config import ThresholdRule
from core.model import Sample
from inventory.models import ResolvedDevice

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass
class Streak:
    """Consecutive breaching / good samples of one (rule, device)."""

    bad: int = 0
    good: int = 0
    bad_since: float = 0.0
    good_since: float = 0.0
    value: float = 0.0
    limit: float = 0.0


@dataclass(frozen=True)
class Crossing:
    """A rule that just held for ``for_rounds`` (``opened``) or cleared for ``clear_rounds``."""

    rule: ThresholdRule
    device: str
    opened: bool
    since: float
    value: float
    limit: float

    @property
    def key(self) -> str:
        return f"threshold:{self.rule.name}:{self.device}"


def limit_for(rule: ThresholdRule, device: ResolvedDevice) -> float | None:
    if rule.value is not None:
        return rule.value
    raw = device.attrs.get(rule.value_attr or "")
    try:
        return float(raw) * rule.scale if raw is not None else None
    except (TypeError, ValueError):
        return None


class ThresholdWatch:
    """Counts streaks per (rule, device) and reports crossings."""

    def __init__(self, rules: list[ThresholdRule]) -> None:
        self.rules = rules
        self.streaks: dict[tuple[str, str], Streak] = {}
        self.active: set[tuple[str, str]] = set()  # (rule, device) currently in breach as far as we know

    def observe(self, sample: Sample, device: ResolvedDevice) -> list[Crossing]:
        crossings = []
        for rule in self.rules:
            if rule.metric not in sample.metrics or not rule.selects(device, sample.probe):
                continue
            limit = limit_for(rule, device)
            if limit is None:
                continue
            value = float(sample.metrics[rule.metric])
            key = (rule.name, device.id)
            streak = self.streaks.setdefault(key, Streak())
            streak.value, streak.limit = value, limit
            if OPS[rule.op](value, limit):
                if streak.bad == 0:
                    streak.bad_since = sample.ts
                streak.bad, streak.good = streak.bad + 1, 0
                if streak.bad >= rule.for_rounds and key not in self.active:
                    self.active.add(key)
                    crossings.append(Crossing(rule, device.id, True, streak.bad_since, value, limit))
            else:
                if streak.good == 0:
                    streak.good_since = sample.ts
                streak.good, streak.bad = streak.good + 1, 0
                if key in self.active and streak.good >= (rule.clear_rounds or rule.for_rounds):
                    self.active.discard(key)
                    crossings.append(Crossing(rule, device.id, False, streak.good_since, value, limit))
        return crossings
