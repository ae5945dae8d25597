"""Contract files: what a contract covers, its deadlines and targets, and how its score is made.

A contract is YAML (``examples/contracts/*.yaml``) validated by the models below; every
mistake is an ``InputError`` naming file, line and field. The score is built from parts, each
a handful of rules of a small set of kinds (see ``compliance.rules``; more register through
``compliance.kinds``):

- ``manual``: a value recorded by hand (a satisfaction form), with a default when absent;
- ``count``: records counted per unit or per system, a ladder or points each with a cap;
- ``per_day``: a record expected every (working) day, points per missed day;
- ``deduction`` / ``bonus``: points per event (fault, vulnerability, record), fixed, by a field,
  taken from the record, or by tiers of a measured time;
- ``documents``: required documents present, as a ratio of the part or points per missing one;
- ``consecutive_missing``: a system without a kind of record two periods running.

A part starts full (deductions) or at zero (earned points), is floored (default 0) and capped at
its points; bonuses may take it above. Parts make a table, tables combine (min or mean), unit
scores may be averaged. Grade bands map the score to a cut percent of the fee (or bond).
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from compliance.events import NOTICE_LEVELS, SEVERITIES
from compliance.kinds import RULE_MODELS, rule_model, rule_union
from core.errors import InputError, InputProblem
from inventory.models import ImportantPeriod, Strict
from inventory.plugins import load_plugins, rebind_field
from inventory.yamlsource import Located, load_yaml, without_union_tags

Number = float


class Term(Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Term:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class PeriodSpec(Strict):
    """The assessment period: calendar months, or contract months starting on ``start_day``."""

    kind: Literal["calendar_month", "contract_month"] = "calendar_month"
    start_day: int = Field(1, ge=1, le=28, description="first day of a contract month (1 for calendar months)")
    assessment: Literal["month", "year"] = Field(
        "month", description="year: the grade and money apply to the annual assessment; monthly reports are provisional"
    )
    overdue_in: Literal["deadline", "opened"] = Field(
        "deadline", description="deadline: a missed deadline is charged in the period in which it passed; opened: in"
        " the period the fault was opened (vulnerability found), that period's report provisional until it passed"
    )

    @model_validator(mode="after")
    def _day(self) -> PeriodSpec:
        if self.kind == "calendar_month" and self.start_day != 1:
            raise ValueError("start_day applies to contract_month periods only")
        return self


class Money(Strict):
    fee_per_year: Decimal | None = Field(None, ge=0)
    fee_per_period: Decimal | None = Field(None, ge=0, description="default: fee_per_year / 12")
    bond: Decimal | None = Field(None, ge=0)
    cut_base: Literal["fee", "bond"] = "fee"

    @model_validator(mode="after")
    def _base(self) -> Money:
        if self.cut_base == "bond" and self.bond is None:
            raise ValueError("cut_base is bond but no bond is given")
        return self

    def period_fee(self) -> Decimal | None:
        if self.fee_per_period is not None:
            return self.fee_per_period
        if self.fee_per_year is not None:
            return self.fee_per_year / 12
        return None


class ContractUnit(Strict):
    id: str
    name: str = ""


class ContractSystem(Strict):
    id: str
    name: str = ""
    unit: str | None = None
    category: str | None = Field(None, description="e.g. line_lease, purchased_service, platform, hardware")
    documents: list[str] | None = Field(
        None, description="this system's own catalogue of per-system documents (names of required documents with"
        " per: system); absent: every per-system document of the rule")


class Members(Strict):
    """Which devices make an online-rate group."""

    groups: list[str] = Field(default_factory=list, description="inventory group ids")
    devices: list[str] = Field(default_factory=list, description="device id patterns (fnmatch), also matched in the ledger")
    systems: list[str] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)


class OnlineGroup(Strict):
    id: str
    name: str = ""
    members: Members = Field(default_factory=Members)
    threshold: float | None = Field(None, gt=0, le=1, description="default: the inventory group's online_rate")
    important_periods: list[ImportantPeriod] | None = None


class OnlineSettings(Strict):
    maintenance: Literal["exclude", "online", "offline"] = Field(
        "exclude", description="maintenance time: left out of observed time, or counted as online/offline"
    )
    merge_gap_seconds: float = Field(0, ge=0, description="breaches closer than this are one episode (0: strict)")
    min_episode_seconds: float = Field(0, ge=0, description="breaches shorter than this are not episodes (0: strict)")
    worst_devices: int = Field(50, ge=0, description="how many worst devices the HTML/DOCX reports list")
    groups: list[OnlineGroup] = Field(default_factory=list)


class FaultLevel(Strict):
    name: str = ""
    respond_minutes: float = Field(gt=0)
    resolve_hours: float | None = Field(None, gt=0)
    resolve_same_day: bool = Field(False, description="resolved before midnight of the day it was opened")

    @model_validator(mode="after")
    def _resolution(self) -> FaultLevel:
        if self.resolve_hours is None and not self.resolve_same_day:
            raise ValueError("give resolve_hours or resolve_same_day: true")
        return self


class FaultTargets(Strict):
    resolution_rate: float | None = Field(None, gt=0, le=1, description="share of the period's faults resolved")
    resolution_rate_strict: bool = Field(True, description="true: the rate must exceed the target (> 95 %)")


class FaultSettings(Strict):
    levels: dict[int, FaultLevel]
    waivers: list[Literal["force_majeure", "maintenance"]] = Field(default_factory=lambda: ["force_majeure", "maintenance"])
    recurring_window_days: float = Field(30, ge=0, description="a fault on the same target within this many days of"
                                         " the previous one's resolution is a recurrence")
    recurring_match_cause: bool = Field(True, description="recurrence also needs the same cause (when both give one)")
    recurring_after: Literal["fix", "resolution"] = Field(
        "fix", description="fix: only a fault that was fixed (resolved by someone, not by the device coming back on"
        " its own, not waived) can recur; resolution: any resolved fault (stricter)")
    targets: FaultTargets = Field(default_factory=FaultTargets)

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: dict[int, FaultLevel]) -> dict[int, FaultLevel]:
        wrong = [k for k in value if k not in (1, 2, 3, 4)]
        if wrong:
            raise ValueError(f"fault levels are 1-4, not {wrong}")
        missing = [k for k in (1, 2, 3, 4) if k not in value]
        if missing:
            raise ValueError(f"deadlines missing for level(s) {missing}")
        return value


class VulnDeadline(Strict):
    fix_hours: float = Field(gt=0)
    mitigation_counts: bool = Field(False, description="a mitigation (not only a fix) meets the deadline")


def _default_vulns() -> dict[str, VulnDeadline]:
    return {
        "critical": VulnDeadline(fix_hours=24),
        "high": VulnDeadline(fix_hours=7 * 24),
        "medium": VulnDeadline(fix_hours=15 * 24, mitigation_counts=True),
        "low": VulnDeadline(fix_hours=15 * 24, mitigation_counts=True),
    }


class VulnSettings(Strict):
    deadlines: dict[str, VulnDeadline] = Field(default_factory=_default_vulns)
    recurring: bool = Field(True, description="a vulnerability found again after it was fixed is a recurrence")

    @field_validator("deadlines")
    @classmethod
    def _severities(cls, value: dict[str, VulnDeadline]) -> dict[str, VulnDeadline]:
        wrong = [k for k in value if k not in SEVERITIES]
        if wrong:
            raise ValueError(f"severities are {', '.join(SEVERITIES)}, not {wrong}")
        return {**_default_vulns(), **value}


# -- rules ------------------------------------------------------------------------------------

Where = dict[str, list[Any]]


class Step(Strict):
    at_least: float
    points: float


class Tier(Strict):
    """A step of a time ladder: more than ``over_minutes``, or at least ``from_minutes``."""

    over_minutes: float | None = Field(None, ge=0)
    from_minutes: float | None = Field(None, ge=0)
    points: float

    @model_validator(mode="after")
    def _one(self) -> Tier:
        if (self.over_minutes is None) == (self.from_minutes is None):
            raise ValueError("give over_minutes (strictly more) or from_minutes (at least)")
        return self

    def reached(self, seconds: float) -> bool:
        if self.over_minutes is not None:
            return seconds > self.over_minutes * 60
        return seconds >= (self.from_minutes or 0) * 60


class ThenEvery(Strict):
    """Beyond ``after_minutes``: ``points`` more per ``minutes`` (each started block, or full ones).

    "each further hour" after the first: 60:00 is the first hour itself, 60:01 has started the
    second (started: 1 block), 120:00 has used it up and 120:01 starts the third (2 blocks)."""

    after_minutes: float = Field(ge=0)
    minutes: float = Field(gt=0)
    points: float
    rounding: Literal["started", "full"] = Field("started", description="started: a begun block counts; full: only"
                                                 " whole blocks")

    def count(self, seconds: float) -> int:
        beyond = seconds - self.after_minutes * 60
        if beyond <= 0:
            return 0
        block = self.minutes * 60
        return math.ceil(beyond / block) if self.rounding == "started" else int(beyond // block)


class Tiers(Strict):
    measure: Literal["response", "resolution"]
    steps: list[Tier] = Field(min_length=1)
    then_every: ThenEvery | None = None


class PointsBy(Strict):
    field: str
    map: dict[str, float]
    default: float | None = None


class PointsFrom(Strict):
    field: str = "points"
    min: float | None = None
    max: float | None = None
    default: float | None = None


class RuleBase(Strict):
    id: str | None = None
    name: str = ""
    subitem: str | None = Field(None, description="the part's sub-item whose points cap this rule's deductions")


@rule_model
class ManualRule(RuleBase):
    kind: Literal["manual"]
    record: str
    default: float | None = Field(None, description="points when nothing is recorded (default: the part's points)")
    answers: dict[str, float] = Field(
        default_factory=lambda: {"satisfied": 1.0, "basically_satisfied": 0.8, "neutral": 0.6, "dissatisfied": 0.0},
        description="answer -> share of the points",
    )
    accident_points: float | None = Field(0, description="points when the form reports an O&M accident (null: no effect)")


@rule_model
class CountRule(RuleBase):
    kind: Literal["count"]
    record: str
    per: Literal["unit", "system", "contract"] = "unit"
    combine: Literal["average", "sum"] = "average"
    count_by: Literal["event", "day", "week"] = "event"
    points_each: float | None = None
    cap: float | None = None
    ladder: list[Step] | None = None
    where: Where = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one(self) -> CountRule:
        if (self.points_each is None) == (self.ladder is None) or (self.ladder is not None and self.cap is not None):
            raise ValueError("give either points_each (with cap) or ladder")
        return self

    def max_points(self) -> float:
        if self.ladder is not None:
            return max([0.0, *(s.points for s in self.ladder)])
        return self.cap if self.cap is not None else float("inf")


@rule_model
class PerDayRule(RuleBase):
    kind: Literal["per_day"]
    record: str
    days: Literal["working", "all"] = "working"
    points_each: float = Field(gt=0, description="points lost per day without a record")
    where: Where = Field(default_factory=dict)


class EventRule(RuleBase):
    """Points per event: records of a kind, faults or vulnerabilities."""

    source: Literal["records", "faults", "vulns"]
    record: str | None = None
    where: Where = Field(default_factory=dict)
    by_part: bool = Field(False, description="records count only in the part they name (field 'part')")
    takes_unassigned: bool = Field(False, description="with by_part: also records that name no part")
    checks: list[Literal["response", "resolution"]] = Field(default_factory=lambda: ["response", "resolution"])
    response_over_minutes: float | None = Field(None, ge=0)
    resolution_over_minutes: float | None = Field(None, ge=0)
    once_per_fault: bool = Field(False, description="false (stricter): each missed deadline counts")
    honour_waivers: bool = True
    points: float | None = None
    points_by: PointsBy | None = None
    points_from: PointsFrom | None = None
    tiers: Tiers | None = None
    multiply_by: str | None = Field(None, description="a record field holding a count, e.g. missing engineers")

    @model_validator(mode="after")
    def _shape(self) -> EventRule:
        given = [k for k in ("points", "points_by", "points_from", "tiers") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of points, points_by, points_from, tiers")
        if self.source == "records" and not self.record:
            raise ValueError("a rule over records names the record kind (record: ...)")
        if self.source != "records" and (self.record or self.by_part):
            raise ValueError("record and by_part apply to source: records only")
        if self.tiers is not None and self.source != "faults":
            raise ValueError("tiers measure fault times: source must be faults")
        return self


@rule_model
class DeductionRule(EventRule):
    kind: Literal["deduction"]


@rule_model
class BonusRule(EventRule):
    kind: Literal["bonus"]


class RequiredDocument(Strict):
    name: str
    frequency: Literal["once", "weekly", "monthly", "quarterly", "yearly", "per_fault"] = "monthly"
    levels: list[int] | None = Field(None, description="per_fault: only faults of these levels need one")
    per: Literal["unit", "system"] = Field("unit", description="system: one copy per system (the record names it)")
    aliases: list[str] = Field(default_factory=list)


@rule_model
class DocumentsRule(RuleBase):
    kind: Literal["documents"]
    mode: Literal["ratio", "per_missing"] = "ratio"
    points: float | None = Field(None, ge=0, description="ratio: points when every document is present (default:"
                                 " the part's points)")
    points_each: float | None = Field(None, gt=0, description="per_missing: points per missing document")
    not_applicable: Literal["excluded", "present"] = Field(
        "excluded", description="a document not due this period: left out of the ratio (stricter) or counted present"
    )
    count: Literal["per_copy", "per_document"] = Field(
        "per_copy", description="ratio: a document's share is its present copies / required copies (1 of 4 fault"
        " reports missing costs a quarter of its share); per_document: any missing copy loses the whole share")
    skip_categories: list[str] = Field(default_factory=list, description="per-system documents: systems of these"
                                       " categories need none")
    record: str = "document"
    required: list[RequiredDocument] = Field(min_length=1)

    @model_validator(mode="after")
    def _mode(self) -> DocumentsRule:
        if self.mode == "per_missing" and self.points_each is None:
            raise ValueError("per_missing needs points_each")
        return self


@rule_model
class ConsecutiveRule(RuleBase):
    kind: Literal["consecutive_missing"]
    records: list[str] = Field(min_length=1)
    unit_level: list[str] = Field(default_factory=list, description="kinds recorded per unit (a unit's record covers"
                                  " its systems), e.g. visit, inspection")
    points: float = Field(gt=0)
    count: Literal["per_kind", "per_system"] = Field("per_kind", description="per_kind (stricter): each missing kind")
    skip_categories: list[str] = Field(default_factory=list, description="systems of these categories are not checked")


Rule = rule_union()  # every registered kind (compliance.kinds); rebuilt when one registers late


class SubItem(Strict):
    """A part's sub-item with its own points: its rules' deductions never exceed them."""

    id: str
    name: str = ""
    points: float = Field(ge=0)


class Part(Strict):
    id: str
    name: str = ""
    name_en: str = ""
    points: float = Field(ge=0)
    start: Literal["full", "zero"] = "full"
    floor: float | None = Field(0, description="lowest value (null: may go negative, e.g. a 0-point 扣分项 part)")
    cap: bool = Field(True, description="cap at points (bonuses may still exceed, see bonus_order)")
    bonus_order: Literal["before_floor", "after_floor"] = Field(
        "after_floor", description="after_floor: deductions floor at the floor first, then bonuses are added"
        " (「单项扣分不超过默认分值，加分可超限」); before_floor: bonuses offset deductions, then the floor"
    )
    subitems: list[SubItem] = Field(default_factory=list, description="sub-items with their own points")
    exempt_categories: list[str] = Field(default_factory=list, description="system categories that get full marks")
    rules: list[Rule] = Field(default_factory=list)


class Table(Strict):
    id: str
    name: str = ""
    systems: list[str] = Field(default_factory=list, description="events of these systems only (events naming no"
                               " system count in every table); empty: all")
    parts: list[Part] = Field(min_length=1)


class Scoring(Strict):
    average_over: Literal["units", "none"] = "none"
    combine_tables: Literal["min", "mean"] = Field("min", description="min (stricter): the worst table decides")
    score_floor: float | None = 0
    unassigned_events: Literal["all_units", "ignore"] = Field(
        "all_units", description="an event whose unit cannot be told counts against every unit (stricter)"
    )
    default_part: str | None = Field(None, description="part of deduction records that name none")
    parts: list[Part] | None = None
    tables: list[Table] | None = None

    @model_validator(mode="after")
    def _one(self) -> Scoring:
        if (self.parts is None) == (self.tables is None):
            raise ValueError("give parts (one table) or tables")
        if self.parts is not None:
            self.tables = [Table(id="score", name="", parts=self.parts)]
            self.parts = None
        return self

    def all_parts(self) -> list[tuple[Table, Part]]:
        return [(table, part) for table in self.tables or [] for part in table.parts]


class GradeBand(Strict):
    min: float | None = Field(description="lowest score of the band (null: everything below)")
    grade: str
    grade_en: str = ""
    cut_percent: float = Field(ge=0, le=100)


class Grading(Strict):
    rounding: Literal["none", "integer", "one_decimal"] = Field(
        "none", description="none (stricter): 89.5 is below 90; integer: round half up first"
    )
    bands: list[GradeBand] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands(self) -> Grading:
        mins = [b.min for b in self.bands]
        if mins[-1] is not None or any(m is None for m in mins[:-1]):
            raise ValueError("bands go from the highest min down; only the last has min: null")
        numbers = [m for m in mins if m is not None]
        if numbers != sorted(numbers, reverse=True) or len(set(numbers)) != len(numbers):
            raise ValueError("band minimums must strictly decrease")
        return self


class PenaltyRule(Strict):
    id: str
    name: str = ""
    kind: Literal["online_rate", "recurring", "record", "fault_targets"]
    amount: Decimal | None = Field(None, ge=0, description="yuan per occurrence (records may carry their own)")
    per: Literal["episode", "period"] = Field("period", description="online_rate: once per group and window (the"
                                              " period, each important period) whose rate misses its threshold;"
                                              " episode: per breach episode")
    record: str | None = None
    sources: list[Literal["faults", "vulns"]] = Field(default_factory=lambda: ["faults", "vulns"])
    multiply_by: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> PenaltyRule:
        if self.kind == "record" and not self.record:
            raise ValueError("a record penalty names the record kind")
        if self.kind in ("online_rate", "recurring", "fault_targets") and self.amount is None:
            raise ValueError(f"a {self.kind} penalty needs an amount")
        return self


class Contract(Strict):
    id: str
    name: str = ""
    customer: str = ""
    timezone: str = "Asia/Shanghai"
    term: Term | None = None
    period: PeriodSpec = Field(default_factory=PeriodSpec)
    money: Money = Field(default_factory=Money)
    units: list[ContractUnit] = Field(default_factory=list)
    systems: list[ContractSystem] = Field(default_factory=list)
    online_rate: OnlineSettings = Field(default_factory=OnlineSettings)
    faults: FaultSettings
    vulns: VulnSettings = Field(default_factory=VulnSettings)
    scoring: Scoring
    grades: Grading
    penalties: list[PenaltyRule] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def unit_name(self, unit: str) -> str:
        return next((u.name for u in self.units if u.id == unit), "") or unit

    def part(self, part_id: str) -> Part | None:
        return next((p for _, p in self.scoring.all_parts() if p.id == part_id), None)


# -- cross checks that need the whole contract ------------------------------------------------


# a rule kind registered after this module was imported (a plugin, a test) joins the union
RULE_MODELS.on_late_register(lambda: rebind_field(Part, "rules", list[rule_union()], after=(Table, Scoring, Contract)))  # type: ignore[misc]


def cross_problems(contract: Contract, located: Located, data: dict[str, Any],
                   prefix: tuple[str | int, ...] = ()) -> list[InputProblem]:
    """References inside a contract that point nowhere, duplicate ids."""
    problems: list[InputProblem] = []

    def problem(path: tuple[str | int, ...], message: str) -> None:
        problems.append(located.problem((*prefix, *path), message))

    def unique(items: list[Any], path: tuple[str | int, ...], what: str) -> set[str]:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.id in seen:
                problem((*path, index, "id"), f"duplicate {what} id {item.id!r}")
            seen.add(item.id)
        return seen

    units = unique(contract.units, ("units",), "unit")
    systems = unique(contract.systems, ("systems",), "system")
    unique(contract.online_rate.groups, ("online_rate", "groups"), "group")
    unique(contract.penalties, ("penalties",), "penalty")
    for index, system in enumerate(contract.systems):
        if system.unit is not None and units and system.unit not in units:
            problem(("systems", index, "unit"), f"unknown unit {system.unit!r} (declare it under units:)")
    tables = contract.scoring.tables or []
    part_ids: set[str] = set()
    scoring_data = data.get("scoring") if isinstance(data.get("scoring"), dict) else {}
    has_tables = "tables" in (scoring_data or {})
    for t_index, table in enumerate(tables):
        table_path: tuple[str | int, ...] = ("scoring", "tables", t_index) if has_tables else ("scoring",)
        for index, system in enumerate(table.systems):
            if systems and system not in systems:
                problem((*table_path, "systems", index), f"unknown system {system!r}")
        for p_index, part in enumerate(table.parts):
            part_path = (*table_path, "parts", p_index)
            if part.id in part_ids:
                problem((*part_path, "id"), f"duplicate part id {part.id!r} (part ids are unique across tables)")
            part_ids.add(part.id)
            earned = [r for r in part.rules if isinstance(r, CountRule | ManualRule)]
            if part.start == "zero" and earned and all(isinstance(r, CountRule) for r in earned):
                total = sum(r.max_points() for r in earned if isinstance(r, CountRule))
                if total != part.points:
                    problem((*part_path, "rules"), f"the counting rules give at most {total:g} points but the part has"
                            f" {part.points:g}")
            subitems = unique(part.subitems, (*part_path, "subitems"), "sub-item")
            for r_index, rule in enumerate(part.rules):
                if rule.subitem is not None and rule.subitem not in subitems:
                    problem((*part_path, "rules", r_index, "subitem"),
                            f"unknown sub-item {rule.subitem!r} (declare it under the part's subitems:)")
                if isinstance(rule, DocumentsRule):
                    for d_index, doc in enumerate(rule.required):
                        if doc.levels and any(level not in (1, 2, 3, 4) for level in doc.levels):
                            problem((*part_path, "rules", r_index, "required", d_index, "levels"), "levels are 1-4")
                if isinstance(rule, DeductionRule | BonusRule) and rule.points_by is not None:
                    known = {"level": {"1", "2", "3", "4"}, "severity": set(SEVERITIES)}.get(rule.points_by.field)
                    if rule.record == "notice" and rule.points_by.field == "level":
                        known = set(NOTICE_LEVELS)
                    if known is not None:
                        bad = [k for k in rule.points_by.map if k not in known]
                        if bad:
                            problem((*part_path, "rules", r_index, "points_by", "map"),
                                    f"unknown {rule.points_by.field} value(s) {bad} (known: {', '.join(sorted(known))})")
    default_part = contract.scoring.default_part
    if default_part is not None and default_part not in part_ids:
        problem(("scoring", "default_part"), f"unknown part {default_part!r}")
    return problems



def contract_problems(exc: ValidationError, located: Located, data: Any,
                      prefix: tuple[str | int, ...] = ()) -> list[InputProblem]:
    """Pydantic errors as problems naming file, line and field."""
    problems = []
    for error in exc.errors():
        loc = without_union_tags(data, [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))], ("kind",))
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see examples/contracts/)"
        elif error["type"] == "union_tag_invalid":
            message = f"unknown rule kind (known: {', '.join(RULE_MODELS.entries)})"
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        problems.append(located.problem((*prefix, *loc), message))
    return problems


def contract_from_data(data: Any, located: Located, prefix: tuple[str | int, ...] = ()) -> Contract:
    """Validate a contract mapping; raises InputError with every problem."""
    if not isinstance(data, dict):
        raise InputError([located.problem(prefix, "a contract must be a mapping (key: value)")])
    load_plugins()  # rule kinds of compliance/rulekinds/ and of plugin packages, even without a config
    try:
        contract = Contract.model_validate(data)
    except ValidationError as exc:
        raise InputError(contract_problems(exc, located, data, prefix)) from None
    problems = cross_problems(contract, located, data, prefix)
    if problems:
        raise InputError(problems)
    return contract


def load_contract(path: str | Path, text: str | None = None) -> Contract:
    """Read and validate a contract file."""
    located = load_yaml(path, text)
    return contract_from_data(located.data, located)
