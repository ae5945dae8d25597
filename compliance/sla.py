"""Fault and vulnerability deadlines: per event outcome, and the period's summary.

A fault belongs to the period it was opened in. Its response time runs from ``opened`` to the
engineer's acknowledgement (or to the resolution, if that came first); its resolution time to
``resolved``. One still open is measured up to ``now`` and is overdue once ``now`` passes
its deadline. A waiver the contract honours (force majeure, maintenance) keeps an overdue
from costing points; it is still listed. A fault on the same target (device, else system,
else unit) and cause opened within the contract's window after the previous one was resolved is
a recurrence (an incomplete fix); so is one naming ``recurrence_of``. By default
(``recurring_after: fix``) only a fault that was fixed can recur: one resolved by the device
coming back on its own (alerting's ``resolved_how: auto``), absorbed into another fault, or
waived was not fixed, so a camera that drops twice in a month is not an incomplete fix; a waived
fault does not recur either. ``recurring_after: resolution`` counts any resolution (stricter).

A vulnerability must be fixed (or, where the contract accepts it, mitigated) within its
severity's deadline; found again after a fix, it is a recurrence.

A report never depends on the day it is run: everything is judged at the report's cut-off
(the period's end, or the report's clock if the period is still running) and anything recorded
later is ignored. A missed deadline is charged in the period in which the deadline passes, so
a fault or vulnerability of November whose deadline falls in December is December's (its
outcome is ``carried`` into December's report) and never charged twice or lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

from compliance.contract import Contract
from compliance.events import Fault, Vuln
from compliance.periods import Period
from compliance.scope import Scope
from core.recurrence import RecurrenceRule, fault_target
from core.recurrence import was_fixed as fixed
from core.timefmt import zone


@dataclass
class FaultOutcome:
    fault: Fault
    unit: str | None
    system: str | None
    response_limit: float
    resolution_limit: float
    waived: bool
    recurrence_of: str | None = None
    carried: bool = False  # opened in an earlier period; here only for a deadline that falls in this one
    cutoff: float = 0.0  # what the fault is judged at: the period's cut-off, or (overdue_in: opened) the report's clock
    charged_when_opened: bool = False  # overdue_in: opened

    def deadline(self, what: str, limit: float | None = None) -> float:
        if limit is None:
            limit = self.response_limit if what == "response" else self.resolution_limit
        return self.fault.opened + limit

    def __post_init__(self) -> None:
        acknowledged, resolved = self.fault.acknowledged, self.fault.resolved
        # acknowledged, or resolved if that came first (asked for ~10 times per fault)
        self.responded_at: float | None = (resolved if acknowledged is None else acknowledged if resolved is None
                                           else min(acknowledged, resolved))

    def measure(self, what: str, now: float) -> tuple[float, bool]:
        """(seconds, final): the response or resolution time, or the time so far when still open."""
        end = self.responded_at if what == "response" else self.fault.resolved
        if end is None:
            return max(0.0, now - self.fault.opened), False
        return end - self.fault.opened, True

    def over(self, what: str, limit: float, now: float) -> bool:
        seconds, _final = self.measure(what, now)
        return seconds > limit

    def overdue(self, what: str, now: float) -> bool:
        return self.over(what, self.response_limit if what == "response" else self.resolution_limit, now)


@dataclass
class VulnOutcome:
    vuln: Vuln
    limit: float
    closed_at: float | None
    overdue: bool
    recurrence_of: str | None = None
    carried: bool = False  # found in an earlier period, its deadline passes in this one
    cutoff: float = 0.0
    charged_when_opened: bool = False

    @property
    def deadline(self) -> float:
        return self.vuln.found + self.limit

    def charged_in(self, period: Period) -> bool:
        """Overdue, and this is the period it is charged in: the one in which the deadline passed
        (or, ``overdue_in: opened``, the one it was found in)."""
        if self.charged_when_opened:
            return self.overdue and not self.carried
        return self.overdue and period.start <= self.deadline < period.end

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass
class FaultSummary:
    total: int = 0
    by_level: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0, 3: 0, 4: 0})
    response_overdue: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0, 3: 0, 4: 0})
    resolution_overdue: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0, 3: 0, 4: 0})
    waived: int = 0
    resolved: int = 0
    open: int = 0
    recurring: int = 0
    mean_response: float | None = None
    worst_response: float | None = None
    mean_resolution: float | None = None
    worst_resolution: float | None = None
    resolution_rate: float | None = None
    resolution_rate_target: float | None = None
    resolution_rate_met: bool | None = None


def _resolution_limit(contract: Contract, fault: Fault) -> float:
    level = contract.faults.levels[fault.level]
    limits = []
    if level.resolve_hours is not None:
        limits.append(level.resolve_hours * 3600)
    if level.resolve_same_day:
        tz = zone(contract.timezone)
        opened = datetime.fromtimestamp(fault.opened, tz)
        midnight = datetime.combine(opened.date() + timedelta(days=1), time(0), tz).timestamp()
        limits.append(midnight - fault.opened)
    return min(limits)


def was_fixed(fault: Fault, waivers: list[str]) -> bool:
    """Resolved by someone's fix (core.recurrence's rule, shared with alerting's messages)."""
    waived = fault.waived is not None and fault.waived in waivers
    return fixed(fault.resolved, fault.body.get("resolved_how"), waived)


def as_of(fault: Fault, cutoff: float) -> Fault:
    """The fault as the ledger knew it at ``cutoff``: later acknowledgements and resolutions ignored."""
    acknowledged = fault.acknowledged if fault.acknowledged is not None and fault.acknowledged <= cutoff else None
    resolved = fault.resolved if fault.resolved is not None and fault.resolved <= cutoff else None
    if acknowledged == fault.acknowledged and resolved == fault.resolved:
        return fault
    return replace(fault, acknowledged=acknowledged, resolved=resolved)


def fault_outcomes(contract: Contract, scope: Scope, faults: list[Fault], period: Period,
                   cutoff: float | None = None, now: float | None = None) -> list[FaultOutcome]:
    """Outcomes of the faults opened in ``period``, then (``carried``) those opened earlier and
    still unanswered or unresolved when it began. Earlier ones also tell recurrences. With
    ``overdue_in: opened`` nothing is carried and the period's own faults are judged at ``now``."""
    settings = contract.faults
    cutoff = period.end if cutoff is None else min(cutoff, period.end)
    when_opened = contract.period.overdue_in == "opened"
    clock = max(cutoff, now if now is not None else cutoff)
    fixed_limits = {n: level.resolve_hours * 3600 for n, level in settings.levels.items()
                    if level.resolve_hours is not None and not level.resolve_same_day}

    def resolution_limit(fault: Fault) -> float:
        found = fixed_limits.get(fault.level)
        return found if found is not None else _resolution_limit(contract, fault)

    after_fix = settings.recurring_after == "fix"
    rule = RecurrenceRule(settings.recurring_window_days * 86400, settings.recurring_match_cause, after_fix)
    by_id = {f.id: f for f in faults}
    last_by_target: dict[str, list[Fault]] = {}
    outcomes, carried = [], []
    for original in sorted(faults, key=lambda f: (f.opened, f.id)):
        if original.opened >= cutoff:
            continue
        level = settings.levels[original.level]
        judged_at = cutoff
        if when_opened and original.opened >= period.start:
            # judged when its last deadline has passed: what happened later changes nothing
            last_deadline = original.opened + max(level.respond_minutes * 60, resolution_limit(original))
            judged_at = max(cutoff, min(clock, last_deadline + 1))
        fault = as_of(original, judged_at)
        target = fault_target(fault.device, fault.system, fault.unit)
        if fault.opened < period.start and not when_opened:
            responded = min((t for t in (fault.acknowledged, fault.resolved) if t is not None), default=None)
            if (responded is None or responded > period.start) or (fault.resolved is None or fault.resolved > period.start):
                carried.append(FaultOutcome(fault, scope.fault_unit(fault), scope.fault_system(fault),
                                            level.respond_minutes * 60, resolution_limit(fault),
                                            fault.waived is not None and fault.waived in settings.waivers,
                                            carried=True, cutoff=cutoff))
        elif period.start <= fault.opened < period.end:
            outcome = FaultOutcome(
                fault=fault,
                unit=scope.fault_unit(fault),
                system=scope.fault_system(fault),
                response_limit=level.respond_minutes * 60,
                resolution_limit=resolution_limit(fault),
                waived=fault.waived is not None and fault.waived in settings.waivers,
                cutoff=judged_at,
                charged_when_opened=when_opened,
            )
            explicit = fault.body.get("recurrence_of")
            if not isinstance(explicit, str | int) or isinstance(explicit, bool):
                explicit = None
            elif after_fix and (named := by_id.get(str(explicit))) is not None \
                    and not was_fixed(as_of(named, cutoff), settings.waivers):
                explicit = None  # named after a fault nobody fixed: look for one that was
            if after_fix and outcome.waived:
                pass  # force majeure (or maintenance) again is not an incomplete fix
            elif explicit is not None:
                outcome.recurrence_of = str(explicit)
            else:
                for previous in reversed(last_by_target.get(target, [])):
                    if previous.resolved is not None and fault.opened - previous.resolved > rule.window_seconds:
                        break
                    if rule.repeats(fault.opened, fault.cause, previous.resolved, previous.cause,
                                    was_fixed(previous, settings.waivers)):
                        outcome.recurrence_of = previous.id
                        break
            outcomes.append(outcome)
        last_by_target.setdefault(target, []).append(fault)
    return outcomes + carried


def summarize_faults(contract: Contract, outcomes: list[FaultOutcome], now: float) -> FaultSummary:
    """The period's own faults (not the ``carried`` ones), judged at ``now`` (the cut-off)."""
    outcomes = [o for o in outcomes if not o.carried]
    summary = FaultSummary(total=len(outcomes))
    responses, resolutions = [], []
    for outcome in outcomes:
        level = outcome.fault.level
        summary.by_level[level] += 1
        if outcome.waived:
            summary.waived += 1
        else:
            if outcome.overdue("response", outcome.cutoff):
                summary.response_overdue[level] += 1
            if outcome.overdue("resolution", outcome.cutoff):
                summary.resolution_overdue[level] += 1
        if outcome.fault.resolved is not None:
            summary.resolved += 1
        else:
            summary.open += 1
        if outcome.recurrence_of:
            summary.recurring += 1
        response, final = outcome.measure("response", outcome.cutoff)
        if final:
            responses.append(response)
        resolution, final = outcome.measure("resolution", outcome.cutoff)
        if final:
            resolutions.append(resolution)
    if responses:
        summary.mean_response, summary.worst_response = sum(responses) / len(responses), max(responses)
    if resolutions:
        summary.mean_resolution, summary.worst_resolution = sum(resolutions) / len(resolutions), max(resolutions)
    targets = contract.faults.targets
    if outcomes:
        summary.resolution_rate = summary.resolved / summary.total
        if targets.resolution_rate is not None:
            summary.resolution_rate_target = targets.resolution_rate
            # integer comparison: resolved / total > target  <=>  resolved * 10^k > target * 10^k * total
            from fractions import Fraction

            target = Fraction(str(targets.resolution_rate))
            value = Fraction(summary.resolved, summary.total)
            summary.resolution_rate_met = value > target if targets.resolution_rate_strict else value >= target
    return summary


def pending(faults: list[FaultOutcome], vulns: list[VulnOutcome]) -> int:
    """With ``overdue_in: opened``: the period's faults and vulnerabilities with a deadline not yet
    passed and not yet met (the report stays provisional until they are decided)."""
    count = 0
    for o in faults:
        if o.charged_when_opened and not o.carried:
            undecided = [(o.responded_at, o.response_limit), (o.fault.resolved, o.resolution_limit)]
            count += any(end is None and o.cutoff <= o.fault.opened + limit for end, limit in undecided)
    count += sum(1 for v in vulns if v.charged_when_opened and not v.carried and v.closed_at is None
                 and v.cutoff <= v.deadline)
    return count


def vuln_outcomes(contract: Contract, vulns: list[Vuln], period: Period, now: float,
                  clock: float | None = None) -> list[VulnOutcome]:
    """Outcomes of the vulnerabilities found in ``period``, then (``carried``) those found earlier
    whose deadline passes in it. Fixes and mitigations after ``now`` (the cut-off) are ignored.
    With ``overdue_in: opened`` nothing is carried and the period's own are judged at ``clock``."""
    cutoff = min(now, period.end)
    when_opened = contract.period.overdue_in == "opened"
    fixed_before: dict[str, Vuln] = {}
    outcomes, carried = [], []
    for vuln in sorted(vulns, key=lambda v: (v.found, v.id)):
        if vuln.found >= cutoff:
            continue
        deadline = contract.vulns.deadlines[vuln.severity]
        limit = deadline.fix_hours * 3600
        judged_at = cutoff
        if when_opened and vuln.found >= period.start:
            judged_at = max(cutoff, min(clock if clock is not None else cutoff, vuln.found + limit + 1))
        fixed = vuln.fixed if vuln.fixed is not None and vuln.fixed <= judged_at else None
        mitigated = vuln.mitigated if vuln.mitigated is not None and vuln.mitigated <= judged_at else None
        if (fixed, mitigated) != (vuln.fixed, vuln.mitigated):
            vuln = replace(vuln, fixed=fixed, mitigated=mitigated)
        closes = [vuln.fixed] + ([vuln.mitigated] if deadline.mitigation_counts else [])
        closed = min((t for t in closes if t is not None), default=None)
        elapsed = (closed if closed is not None else judged_at) - vuln.found
        if period.start <= vuln.found:
            outcome = VulnOutcome(vuln, limit, closed, elapsed > limit, cutoff=judged_at, charged_when_opened=when_opened)
            previous = fixed_before.get(vuln.key)
            if (contract.vulns.recurring and previous is not None and previous.id != vuln.id
                    and previous.fixed is not None and previous.fixed <= vuln.found):
                outcome.recurrence_of = previous.id
            outcomes.append(outcome)
        elif not when_opened and vuln.found + limit >= period.start and (closed is None or closed > period.start):
            carried.append(VulnOutcome(vuln, limit, closed, elapsed > limit, carried=True, cutoff=cutoff))
        if vuln.fixed is not None:
            fixed_before[vuln.key] = vuln
    return outcomes + carried
