"""The rule kinds a contract's score parts are built from: one small function each.

Every rule gets a ``RuleContext`` (the part, the unit being scored or None, the period's
records, fault and vulnerability outcomes already narrowed to that unit and table) and returns
a ``RuleResult``: the points it adds to the part (negative for deductions), the most it could
add, and the items that explain it (each with its own points). Arithmetic is exact
(``Fraction``): a boundary score such as 89.5 is never 89.49999. The ``documents`` rule lives in
``compliance.documents``; ``compliance.scoring`` maps each kind to its function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Any

from compliance.contract import Contract, ContractSystem, Part, Table
from compliance.display import minute
from compliance.events import ANSWERS, Record
from compliance.i18n import Texts
from compliance.periods import (
    Period,
    week_key,
    working_days,
)
from compliance.rule_models import (
    BonusRule,
    ConsecutiveRule,
    CountRule,
    DeductionRule,
    EventRule,
    ManualRule,
    PerDayRule,
    Tiers,
)
from compliance.scope import Scope
from compliance.sla import FaultOutcome, VulnOutcome
from core.timefmt import day_start, local_date

ZERO = Fraction(0)


def frac(value: float | int | str | Fraction) -> Fraction:
    """An exact fraction of a number written in a contract or record (0.1 is 1/10)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float | int | str):
        return _exact(value)
    return Fraction(value)  # raises for what is no number, as it always did


@lru_cache(maxsize=1024, typed=True)
def _exact(value: float | int | str) -> Fraction:
    """A rule's points are asked for once per fault (17,000 times a month): parsed once."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def show(value: Fraction | float) -> str:
    """A number for text: 8, 2.5, 0.77 (at most two decimals, no trailing zeros)."""
    number = float(value)
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class Item:
    """One thing that moved a part's points, with the evidence it refers to."""

    rule: str
    points: Fraction
    reason: str
    ref: str | None = None
    at: float | None = None
    unit: str | None = None
    system: str | None = None


@dataclass
class RuleResult:
    earned: Fraction
    maximum: Fraction
    items: list[Item] = field(default_factory=list)
    bonus: bool = False


@dataclass
class RuleContext:
    contract: Contract
    scope: Scope
    period: Period
    previous: Period
    now: float
    unit: str | None
    table: Table
    part: Part
    records: list[Record]
    faults: list[FaultOutcome]
    vulns: list[VulnOutcome]
    systems: list[ContractSystem]
    texts: Texts
    warnings: list[str] = field(default_factory=list)

    def records_of(self, kind: str, start: float, end: float, where: dict[str, list[Any]] | None = None) -> list[Record]:
        return [r for r in self.records if r.kind == kind and start <= r.at < end and matches(r.body, where)]

    def in_period(self, kind: str, where: dict[str, list[Any]] | None = None) -> list[Record]:
        return self.records_of(kind, self.period.start, self.period.end, where)

    def system_name(self, system: str | None) -> str:
        if system is None:
            return "-"
        found = self.scope.systems.get(system)
        return (found.name or system) if found else system


def matches(values: dict[str, Any], where: dict[str, list[Any]] | None) -> bool:
    """Every ``field: [allowed values]`` of ``where`` holds (numbers and their text compare equal)."""
    if not where:
        return True
    for key, allowed in where.items():
        if key not in values:
            return False
        value = values[key]
        if value not in allowed and str(value) not in {str(a) for a in allowed}:
            return False
    return True


def rule_id(rule: Any) -> str:
    return rule.id or rule.name or rule.kind


# -- manual value with a default -------------------------------------------------------------


def manual(rule: ManualRule, ctx: RuleContext) -> RuleResult:
    t = ctx.texts
    full = frac(ctx.part.points)
    records = ctx.in_period(rule.record)
    if not records:
        value = full if rule.default is None else frac(rule.default)
        item = Item(rule_id(rule), value - full, t("manual_default", kind=t.kind(rule.record), points=show(value)),
                    unit=ctx.unit)
        return RuleResult(value, full, [item])
    record = max(records, key=lambda r: (r.at, r.uid))
    if record.get("points") is not None:
        value = min(full, frac(record.get("points")))
        reason = t("manual_points", kind=t.kind(rule.record), points=show(value))
    else:
        answers = record.get("answers")
        values = list(answers.values()) if isinstance(answers, dict) else list(answers)
        shares = [frac(rule.answers.get(ANSWERS[a], 0.0)) for a in values]
        value = full * sum(shares, ZERO) / len(shares)
        reason = t("manual_form", kind=t.kind(rule.record), answers="、".join(values))
    if record.get("accident") is True and rule.accident_points is not None:
        value = min(value, frac(rule.accident_points))
        reason = t("manual_accident", kind=t.kind(rule.record), points=show(value))
    return RuleResult(value, full, [Item(rule_id(rule), value - full, reason, record.uid, record.at, ctx.unit,
                                         record.system)])


# -- counting -----------------------------------------------------------------------------------


def _count(records: list[Record], count_by: str, tz: str) -> int:
    if count_by == "event":
        return len(records)
    days = {local_date(r.at, tz) for r in records}
    if count_by == "day":
        return len(days)
    return len({week_key(d) for d in days})


def ladder_points(rule: CountRule, count: int) -> Fraction:
    if rule.ladder is not None:
        reached = [step for step in rule.ladder if count >= step.at_least]
        if not reached:
            return ZERO
        return frac(max(reached, key=lambda step: step.at_least).points)
    points = frac(rule.points_each or 0) * count
    return min(points, frac(rule.cap)) if rule.cap is not None else points


def count(rule: CountRule, ctx: RuleContext) -> RuleResult:
    t = ctx.texts
    kind = t.kind(rule.record)
    how = {"week": t("count_week"), "day": t("count_day")}.get(rule.count_by, "")
    tz = ctx.contract.timezone
    records = ctx.in_period(rule.record, rule.where)
    top = frac(rule.max_points())
    if rule.per in ("unit", "contract"):
        n = _count(records, rule.count_by, tz)
        got = ladder_points(rule, n)
        items = []
        if got != top:
            items.append(Item(rule_id(rule), got - top, t("count_unit", kind=kind, count=n, got=show(got), max=show(top))
                              + how, unit=ctx.unit))
        return RuleResult(got, top, items)
    systems = ctx.systems
    if not systems:
        return RuleResult(top if rule.combine == "average" else ZERO, top if rule.combine == "average" else ZERO)
    total = ZERO
    items = []
    share = Fraction(1, len(systems)) if rule.combine == "average" else Fraction(1)
    for system in systems:
        n = _count([r for r in records if r.system == system.id], rule.count_by, tz)
        got = ladder_points(rule, n)
        total += got
        if got != top:
            items.append(Item(rule_id(rule), (got - top) * share,
                              t("count_system", system=system.name or system.id, kind=kind, count=n, got=show(got),
                                max=show(top)) + how, unit=ctx.unit, system=system.id))
    if rule.combine == "average":
        return RuleResult(total / len(systems), top, items)
    return RuleResult(total, top * len(systems), items)


def per_day(rule: PerDayRule, ctx: RuleContext) -> RuleResult:
    t = ctx.texts
    tz = ctx.contract.timezone
    days = [d for d in ctx.period.days() if day_start(d + timedelta(days=1), tz) <= ctx.now]
    if rule.days == "working":
        days, assumed = working_days(days)
        if assumed:
            ctx.warnings.append(t("warn_working_days", year=assumed[0].year))
    seen = {local_date(r.at, tz) for r in ctx.in_period(rule.record, rule.where)}
    items = [
        Item(rule_id(rule), -frac(rule.points_each),
             t("per_day_missed" if rule.days == "working" else "per_day_missed_all", day=d.isoformat(),
               kind=t.kind(rule.record)), at=day_start(d, tz), unit=ctx.unit)
        for d in days if d not in seen
    ]
    return RuleResult(sum((i.points for i in items), ZERO), ZERO, items)


# -- points per event -------------------------------------------------------------------------


def tier_points(tiers: Tiers, seconds: float) -> Fraction:
    """The points of the last step reached, plus the repeating step beyond."""
    points = ZERO
    for step in tiers.steps:
        if step.reached(seconds):
            points = frac(step.points)
    if tiers.then_every is not None:
        points += frac(tiers.then_every.points) * tiers.then_every.count(seconds)
    return points


def _record_points(rule: EventRule, record: Record) -> Fraction | None:
    if rule.points is not None:
        return frac(rule.points)
    if rule.points_by is not None:
        value = record.get(rule.points_by.field)
        found = rule.points_by.map.get(str(value))
        if found is None:
            return None if rule.points_by.default is None else frac(rule.points_by.default)
        return frac(found)
    assert rule.points_from is not None
    raw = record.get(rule.points_from.field)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None if rule.points_from.default is None else frac(rule.points_from.default)
    value = frac(raw)
    if rule.points_from.min is not None:
        value = max(value, frac(rule.points_from.min))
    if rule.points_from.max is not None:
        value = min(value, frac(rule.points_from.max))
    return value


def _takes(rule: EventRule, ctx: RuleContext, record: Record) -> bool:
    if not rule.by_part:
        return True
    named = record.get("part")
    if named is None:
        return rule.takes_unassigned or ctx.contract.scoring.default_part == ctx.part.id
    return named == ctx.part.id


def events(rule: DeductionRule | BonusRule, ctx: RuleContext) -> RuleResult:
    sign = 1 if isinstance(rule, BonusRule) else -1
    if rule.source == "records":
        items = _record_items(rule, ctx, sign)
    elif rule.source == "faults":
        items = _fault_items(rule, ctx, sign)
    else:
        items = _vuln_items(rule, ctx, sign)
    return RuleResult(sum((i.points for i in items), ZERO), ZERO, items, bonus=sign > 0)


def _record_items(rule: EventRule, ctx: RuleContext, sign: int) -> list[Item]:
    t = ctx.texts
    items = []
    assert rule.record is not None
    for record in ctx.in_period(rule.record, rule.where):
        if not _takes(rule, ctx, record):
            continue
        points = _record_points(rule, record)
        if points is None:
            ctx.warnings.append(t("warn_no_points", uid=record.uid, rule=rule_id(rule), part=ctx.part.id))
            continue
        times = record.get(rule.multiply_by, 1) if rule.multiply_by else 1
        times = times if isinstance(times, int) and not isinstance(times, bool) else 1
        reason = record.get("reason") or record.get("note") or record.get("level") or ""
        items.append(Item(rule_id(rule), sign * points * times, t("record", kind=t.kind(record.kind), reason=reason)
                          + (f" ×{times}" if times != 1 else ""), record.uid, record.at, ctx.unit, record.system))
    return items


def fault_fields(outcome: FaultOutcome) -> dict[str, Any]:
    fault = outcome.fault
    return {**fault.body, "level": fault.level, "device": fault.device, "system": outcome.system,
            "unit": outcome.unit, "cause": fault.cause, "waived": fault.waived}


def _fault_items(rule: EventRule, ctx: RuleContext, sign: int) -> list[Item]:
    t = ctx.texts
    items: list[Item] = []
    for outcome in ctx.faults:
        fault = outcome.fault
        if rule.where and not matches(fault_fields(outcome), rule.where):  # no filter: no fields to build
            continue
        if rule.tiers is not None:
            # a measured time is charged in the period in which it ends (still running: not yet)
            seconds, final = outcome.measure(rule.tiers.measure, outcome.cutoff)
            ended = fault.opened + seconds
            if not final or (outcome.carried if outcome.charged_when_opened
                             else not ctx.period.start <= ended < ctx.period.end):
                continue
            points = tier_points(rule.tiers, seconds)
            if points == 0:
                continue
            reason = t("fault_tier", id=fault.id, level=fault.level, what=t(rule.tiers.measure),
                       measured=t.duration(seconds))
            failed = [(rule.tiers.measure, points, reason, ended)]
        else:
            failed = []
            for what in rule.checks:
                limit_minutes = rule.response_over_minutes if what == "response" else rule.resolution_over_minutes
                limit = limit_minutes * 60 if limit_minutes is not None else (
                    outcome.response_limit if what == "response" else outcome.resolution_limit)
                if not outcome.over(what, limit, outcome.cutoff):
                    continue
                seconds, final = outcome.measure(what, outcome.cutoff)
                points = _fault_points(rule, outcome)
                if final or not outcome.charged_when_opened:
                    reason = t("fault_over", id=fault.id, level=fault.level, what=t(what), measured=t.duration(seconds),
                               limit=t.duration(limit)) + ("" if final else t("fault_open"))
                else:  # judged at its deadline: not done by then
                    reason = t("fault_not_by", id=fault.id, level=fault.level, what=t(what), limit=t.duration(limit))
                failed.append((what, points, reason, outcome.deadline(what, limit)))
            if rule.once_per_fault and failed:
                failed = [min(failed, key=lambda f: f[3])]
            # a missed deadline is charged in the period in which it passed (overdue_in: opened: the fault's)
            if not outcome.charged_when_opened:
                failed = [f for f in failed if ctx.period.start <= f[3] < ctx.period.end]
            if outcome.carried:
                failed = [(w, p, r + t("carried_deadline", deadline=minute(d, ctx.contract.timezone)), d)
                          for w, p, r, d in failed]
        if not failed:
            continue
        if outcome.waived and rule.honour_waivers:
            items.append(Item(rule_id(rule), ZERO, t("fault_waived", id=fault.id, waiver=t.waiver(fault.waived or "")),
                              outcome.fault.uid, fault.opened, ctx.unit, outcome.system))
            continue
        for _what, points, reason, _deadline in failed:
            items.append(Item(rule_id(rule), sign * points, reason, fault.uid, fault.opened, ctx.unit, outcome.system))
    return items


def _fault_points(rule: EventRule, outcome: FaultOutcome) -> Fraction:
    if rule.points is not None:
        return frac(rule.points)
    if rule.points_by is not None:
        found = rule.points_by.map.get(str(fault_fields(outcome).get(rule.points_by.field)))
        if found is not None:
            return frac(found)
        return frac(rule.points_by.default or 0)
    assert rule.points_from is not None
    raw = outcome.fault.body.get(rule.points_from.field)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return frac(raw)
    return frac(rule.points_from.default or 0)


def _vuln_items(rule: EventRule, ctx: RuleContext, sign: int) -> list[Item]:
    t = ctx.texts
    items = []
    for outcome in ctx.vulns:
        vuln = outcome.vuln
        fields = {**vuln.body, "severity": vuln.severity, "unit": vuln.unit, "system": vuln.system}
        if not outcome.charged_in(ctx.period) or not matches(fields, rule.where):
            continue
        if rule.points is not None:
            points = frac(rule.points)
        elif rule.points_by is not None:
            found = rule.points_by.map.get(str(fields.get(rule.points_by.field)))
            points = frac(found if found is not None else (rule.points_by.default or 0))
        else:
            points = frac(rule.points_from.default or 0) if rule.points_from else ZERO
        elapsed = (outcome.closed_at if outcome.closed_at is not None else outcome.cutoff) - vuln.found
        reason = t("vuln_over", id=vuln.id, severity=t.severity(vuln.severity), elapsed=t.duration(elapsed),
                   limit=t.duration(outcome.limit))
        if outcome.carried:
            reason += t("carried_deadline", deadline=minute(outcome.deadline, ctx.contract.timezone))
        items.append(Item(rule_id(rule), sign * points, reason, vuln.uid, vuln.found, ctx.unit, vuln.system))
    return items


# -- a system left alone two periods running --------------------------------------------------


def consecutive_missing(rule: ConsecutiveRule, ctx: RuleContext) -> RuleResult:
    t = ctx.texts
    term = ctx.contract.term
    if term is not None and ctx.previous.first < term.start:
        return RuleResult(ZERO, ZERO)
    items = []
    for system in ctx.systems:
        if system.category in rule.skip_categories:
            continue
        missed = []
        for kind in rule.records:
            def seen(start: float, end: float, kind: str = kind, system: ContractSystem = system) -> bool:
                for r in ctx.records:
                    if r.kind != kind or not start <= r.at < end:
                        continue
                    if r.system == system.id or (kind in rule.unit_level and r.unit == system.unit):
                        return True
                return False

            if not seen(ctx.period.start, ctx.period.end) and not seen(ctx.previous.start, ctx.previous.end):
                missed.append(kind)
        name = system.name or system.id
        if rule.count == "per_kind":
            items.extend(Item(rule_id(rule), -frac(rule.points), t("consecutive", system=name, kind=t.kind(k)),
                              unit=ctx.unit, system=system.id) for k in missed)
        elif missed:
            items.append(Item(rule_id(rule), -frac(rule.points),
                              t("consecutive_any", system=name, kinds="/".join(t.kind(k) for k in missed)),
                              unit=ctx.unit, system=system.id))
    return RuleResult(sum((i.points for i in items), ZERO), ZERO, items)
