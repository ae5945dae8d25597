"""From rules to the contract's score, grade, money cut and penalties.

For each unit (when the contract averages units; else once for the whole contract) and each
table, every part runs its rules over the events of that unit and table. A part starts full or
at zero, adds what its rules give, is capped at its points and floored (default 0); bonuses
may take it above its points. Tables combine by min (default, stricter) or mean; the units'
scores are averaged. The grade band then gives the cut percent of the period's fee (or the
bond); money penalties are added per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from compliance.contract import Contract, GradeBand, Part, Table
from compliance.display import minute, pct
from compliance.documents import documents
from compliance.events import Record
from compliance.i18n import Texts
from compliance.kinds import RULE_KINDS, register_rule_kind
from compliance.online import OnlineResult
from compliance.periods import Period
from compliance.rule_models import (
    BonusRule,
    ConsecutiveRule,
    CountRule,
    DeductionRule,
    DocumentsRule,
    ManualRule,
    PerDayRule,
)
from compliance.rules import (
    ZERO,
    Item,
    RuleContext,
    RuleResult,
    consecutive_missing,
    count,
    events,
    frac,
    manual,
    per_day,
    show,
)
from compliance.scope import Scope
from compliance.sla import FaultOutcome, FaultSummary, VulnOutcome

# The built-in rule kinds (compliance.kinds): a contract's rules: union is built from them.
for _model, _evaluate in (
    (ManualRule, manual),
    (CountRule, count),
    (PerDayRule, per_day),
    (DeductionRule, events),
    (BonusRule, events),
    (DocumentsRule, documents),
    (ConsecutiveRule, consecutive_missing),
):
    register_rule_kind(_model, _evaluate)


def run_rule(rule: Any, ctx: RuleContext) -> RuleResult:
    """Evaluate one rule of a part with its kind's registered function."""
    result: RuleResult = RULE_KINDS[rule.kind].evaluate(rule, ctx)
    return result


@dataclass
class PartScore:
    table: str
    part: Part
    value: Fraction
    items: list[Item] = field(default_factory=list)


@dataclass
class UnitScore:
    unit: str | None
    name: str
    tables: dict[str, Fraction]
    score: Fraction
    parts: list[PartScore]


@dataclass
class PenaltyItem:
    rule: str
    name: str
    amount: Decimal
    reason: str
    ref: str | None = None
    at: float | None = None
    evidence: str = ""


@dataclass
class Scorecard:
    score: Fraction
    graded: Fraction
    band: GradeBand
    tables: dict[str, Fraction]
    units: list[UnitScore]
    cut_base_kind: str
    cut_base: Decimal | None
    cut_amount: Decimal | None
    penalties: list[PenaltyItem]
    provisional: bool

    @property
    def penalty_amount(self) -> Decimal:
        return sum((p.amount for p in self.penalties), Decimal(0))


@dataclass
class Events:
    """The period's evidence, shared by every unit and table."""

    records: list[Record]
    faults: list[FaultOutcome]
    vulns: list[VulnOutcome]


def _in_table(system: str | None, table: Table) -> bool:
    return not table.systems or system is None or system in table.systems


def _for_unit(unit_of: str | None, unit: str | None, averaging: bool, unassigned: str) -> bool:
    if not averaging:
        return True
    if unit_of is None or unit_of == "*":
        return unit_of == "*" or unassigned == "all_units"
    return unit_of == unit


def unit_evidence(contract: Contract, unit: str | None, evidence: Events) -> Events:
    """The evidence that counts for one unit (all of it when the contract does not average units)."""
    if contract.scoring.average_over != "units":
        return evidence
    unassigned = contract.scoring.unassigned_events
    # _for_unit inlined for the faults (43,000 of them for each of the units)
    everyone = unassigned == "all_units"
    return Events([r for r in evidence.records if _for_unit(r.unit, unit, True, "ignore")],
                  [f for f in evidence.faults if (f.unit == unit if f.unit is not None and f.unit != "*"
                                                  else f.unit == "*" or everyone)],
                  [v for v in evidence.vulns if _for_unit(v.vuln.unit, unit, True, unassigned)])


def score_part(part: Part, table: Table, unit: str | None, contract: Contract, scope: Scope, period: Period,
               previous: Period, now: float, evidence: Events, texts: Texts, warnings: list[str]) -> PartScore:
    """``evidence`` is already the unit's (``unit_evidence``)."""
    averaging = contract.scoring.average_over == "units"
    if table.systems:
        records = [r for r in evidence.records if _in_table(r.system, table)]
        faults = [f for f in evidence.faults if _in_table(f.system, table)]
        vulns = [v for v in evidence.vulns if _in_table(v.vuln.system, table)]
    else:
        records, faults, vulns = evidence.records, evidence.faults, evidence.vulns
    unit_systems = [s for s in scope.systems_of(unit if averaging else None) if not table.systems or s.id in table.systems]
    systems = [s for s in unit_systems if s.category not in part.exempt_categories]
    full = frac(part.points)
    if part.exempt_categories and unit_systems and not systems:
        return PartScore(table.id, part, full, [Item("exempt", ZERO, texts("exempt"), unit=unit)])
    ctx = RuleContext(contract, scope, period, previous, now, unit, table, part, records, faults, vulns, systems, texts,
                      warnings)
    core = full if part.start == "full" else ZERO
    bonus = ZERO
    items: list[Item] = []
    lost_in: dict[str, Fraction] = {}
    for rule in part.rules:
        result = run_rule(rule, ctx)
        items.extend(result.items)
        if result.bonus:
            bonus += result.earned
        elif rule.subitem is not None and result.earned < 0:
            lost_in[rule.subitem] = lost_in.get(rule.subitem, ZERO) + result.earned
        else:
            core += result.earned
    for sub in part.subitems:
        lost = lost_in.get(sub.id, ZERO)
        most = frac(sub.points)
        if -lost > most:  # a sub-item's deductions never exceed its points
            items.append(Item(f"subitem:{sub.id}", -lost - most,
                              texts("subitem_cap", name=sub.name or sub.id, points=show(most), excess=show(-lost - most)),
                              unit=unit))
            lost = -most
        core += lost
    if part.cap:
        core = min(core, full)
    floor = frac(part.floor) if part.floor is not None else None
    if part.bonus_order == "before_floor":
        value = core + bonus
        if floor is not None:
            value = max(value, floor)
    else:
        value = max(core, floor) if floor is not None else core
        value += bonus
    return PartScore(table.id, part, value, items)


def score_units(contract: Contract, scope: Scope, period: Period, previous: Period, now: float, evidence: Events,
                texts: Texts, warnings: list[str]) -> list[UnitScore]:
    averaging = contract.scoring.average_over == "units"
    units: list[tuple[str | None, str]] = [(u, name) for u, name in scope.units.items()] if averaging else [(None, "")]
    if averaging and not units:
        warnings.append(texts("warn_no_units"))
        units = [(None, "")]
    results = []
    for unit, name in units:
        parts: list[PartScore] = []
        tables: dict[str, Fraction] = {}
        own = unit_evidence(contract, unit, evidence)
        for table in contract.scoring.tables or []:
            scores = [score_part(part, table, unit, contract, scope, period, previous, now, own, texts, warnings)
                      for part in table.parts]
            parts.extend(scores)
            tables[table.id] = sum((p.value for p in scores), ZERO)
        values = list(tables.values())
        combined = min(values) if contract.scoring.combine_tables == "min" else sum(values, ZERO) / len(values)
        if contract.scoring.score_floor is not None:
            combined = max(combined, frac(contract.scoring.score_floor))
        results.append(UnitScore(unit, name, tables, combined, parts))
    return results


def graded_score(contract: Contract, score: Fraction) -> Fraction:
    """The score the grade bands are read with (rounded first only if the contract says so)."""
    rounding = contract.grades.rounding
    if rounding == "none":
        return score
    quantum = Decimal(1) if rounding == "integer" else Decimal("0.1")
    exact = Decimal(score.numerator) / Decimal(score.denominator)
    return Fraction(exact.quantize(quantum, rounding=ROUND_HALF_UP))


def band_of(contract: Contract, graded: Fraction) -> GradeBand:
    for band in contract.grades.bands:
        if band.min is None or graded >= frac(band.min):
            return band
    return contract.grades.bands[-1]  # pragma: no cover - the last band has no minimum


def money(value: Fraction | Decimal) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def period_fee(contract: Contract, period: Period) -> Decimal | None:
    if period.kind == "year":
        fee = contract.money.fee_per_year
        if fee is None and contract.money.fee_per_period is not None:
            fee = contract.money.fee_per_period * 12
        return fee
    return contract.money.period_fee()


def penalties(contract: Contract, period: Period, online: OnlineResult, evidence: Events, summary: FaultSummary,
              texts: Texts) -> list[PenaltyItem]:
    fee = period_fee(contract, period)
    items: list[PenaltyItem] = []
    for rule in contract.penalties:
        name = rule.name or rule.id
        amount = rule.amount if rule.amount is not None else Decimal(0)
        if rule.kind == "online_rate":
            items.extend(_online_penalties(rule.id, name, amount, rule.per, online, period, texts))
        elif rule.kind == "recurring":
            if "faults" in rule.sources:
                for outcome in evidence.faults:
                    if outcome.recurrence_of and not outcome.carried:
                        fault = outcome.fault
                        proof = texts("recurring_evidence", at=minute(fault.opened, period.tz),
                                      target=fault.device or outcome.system or outcome.unit or "-",
                                      cause=fault.cause or "-")
                        items.append(PenaltyItem(rule.id, name, amount,
                                                 texts("recurring_fault", id=fault.id, previous=outcome.recurrence_of),
                                                 fault.uid, fault.opened, proof))
            if "vulns" in rule.sources:
                for vuln in evidence.vulns:
                    if vuln.recurrence_of and not vuln.carried:
                        proof = texts("recurring_evidence", at=minute(vuln.vuln.found, period.tz),
                                      target=vuln.vuln.system or vuln.vuln.unit or "-", cause=vuln.vuln.key.split("|")[-1])
                        items.append(PenaltyItem(rule.id, name, amount,
                                                 texts("recurring_vuln", id=vuln.vuln.id, previous=vuln.recurrence_of),
                                                 vuln.vuln.uid, vuln.vuln.found, proof))
        elif rule.kind == "fault_targets":
            if summary.resolution_rate_met is False:
                items.append(PenaltyItem(rule.id, name, amount,
                                         texts("resolution_rate", rate=pct(summary.resolution_rate),
                                               target=pct(summary.resolution_rate_target)), None, period.start,
                                         texts("resolution_evidence", resolved=summary.resolved, total=summary.total)))
        else:
            for record in evidence.records:
                if record.kind != rule.record or not period.contains(record.at):
                    continue
                times = record.get(rule.multiply_by, 1) if rule.multiply_by else 1
                times = times if isinstance(times, int) and not isinstance(times, bool) else 1
                reason = str(record.get("reason") or record.get("note") or "")
                if rule.amount is None and record.get("percent") is not None:
                    if fee is None:
                        continue
                    value = fee * Decimal(str(record.get("percent"))) / 100
                    reason = texts("penalty_percent", kind=texts.kind(record.kind), reason=reason,
                                   percent=show(record.get("percent")))
                elif rule.amount is None:
                    value = Decimal(str(record.get("amount") or 0))
                    reason = texts("record", kind=texts.kind(record.kind), reason=reason)
                else:
                    value = rule.amount
                    reason = texts("record", kind=texts.kind(record.kind), reason=reason)
                proof = texts("record_evidence", kind=texts.kind(record.kind), at=minute(record.at, period.tz),
                              unit=contract.unit_name(record.unit) if record.unit and record.unit != "*" else "-")
                items.append(PenaltyItem(rule.id, name, money(value * times), reason + (f" ×{times}" if times != 1 else ""),
                                         record.uid, record.at, proof))
    return items


def _online_penalties(rule_id: str, name: str, amount: Decimal, per: str, online: OnlineResult, period: Period,
                      texts: Texts) -> list[PenaltyItem]:
    """「在线率要求95%以上，重要时间节点要求在线率98%以上」: by default one penalty per group and window
    (the period, each important period) whose rate over that window misses its threshold."""
    tz = period.tz
    items: list[PenaltyItem] = []
    for group in online.groups:
        if group.threshold is None:
            continue
        if per == "episode":
            for episode in group.episodes:
                reason = texts("online_episode", group=group.name, threshold=pct(episode.threshold),
                               start=minute(episode.start, tz), minutes=show((episode.end - episode.start) / 60),
                               worst=pct(episode.worst_rate))
                evidence = texts("online_evidence", online=show(group.online / 3600), observed=show(group.observed / 3600),
                                 rate=pct(group.rate))
                items.append(PenaltyItem(rule_id, name, amount, reason, group.id, episode.start, evidence))
            continue
        windows = [(texts("window_period", first=period.first.isoformat(), last=period.last.isoformat()),
                    group.base_met, group.rate, group.threshold, group.online, group.observed)]
        windows += [(texts("window_important", name=w.name, first=w.first.isoformat(), last=w.last.isoformat()),
                     w.met, w.rate, w.threshold, w.online, w.observed) for w in group.windows]
        for label, met, rate, threshold, on, observed in windows:
            if met is not False:
                continue
            reason = texts("online_period", group=group.name, window=label, rate=pct(rate), threshold=pct(threshold))
            evidence = texts("online_evidence", online=show(on / 3600), observed=show(observed / 3600), rate=pct(rate))
            episodes = len(group.episodes)
            if episodes:
                evidence += texts("online_episodes", episodes=episodes, minutes=show(group.seconds_below / 60))
            items.append(PenaltyItem(rule_id, name, amount, reason, group.id, period.start, evidence))
    return items


def scorecard(contract: Contract, scope: Scope, period: Period, previous: Period, now: float, evidence: Events,
              online: OnlineResult, summary: FaultSummary, texts: Texts, warnings: list[str]) -> Scorecard:
    units = score_units(contract, scope, period, previous, now, evidence, texts, warnings)
    score = sum((u.score for u in units), ZERO) / len(units)
    tables = {t.id: sum((u.tables[t.id] for u in units), ZERO) / len(units) for t in contract.scoring.tables or []}
    graded = graded_score(contract, score)
    band = band_of(contract, graded)
    base_kind = contract.money.cut_base
    base = contract.money.bond if base_kind == "bond" else period_fee(contract, period)
    cut = money(base * Decimal(str(band.cut_percent)) / 100) if base is not None else None
    provisional = contract.period.assessment == "year" and period.kind == "month"
    return Scorecard(score, graded, band, tables, units, base_kind, money(base) if base is not None else None, cut,
                     penalties(contract, period, online, evidence, summary, texts), provisional)
