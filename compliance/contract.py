"""Contract files: what a contract covers, its deadlines and targets, and how its score is made.

A contract is YAML (``examples/contracts/*.yaml``) validated by the models below; reading one
and every mistake as an ``InputError`` naming file, line and field is ``compliance.contract_file``.
The score is built from parts, each a handful of rules of a small set of kinds (their models in
``compliance.rule_models``, scored by ``compliance.rules``; more register through
``compliance.kinds``).

A part starts full (deductions) or at zero (earned points), is floored (default 0) and capped at
its points; bonuses may take it above. Parts make a table, tables combine (min or mean), unit
scores may be averaged. Grade bands map the score to a cut percent of the fee (or bond).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

import compliance.rule_models  # noqa: F401 - the built-in rule kinds register before the union below is built
from compliance.events import SEVERITIES
from compliance.kinds import RULE_MODELS, rule_union
from inventory.models import ImportantPeriod, Strict
from inventory.plugins import rebind_field

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


# a rule kind registered after this module was imported (a plugin, a test) joins the union
RULE_MODELS.on_late_register(lambda: rebind_field(Part, "rules", list[rule_union()], after=(Table, Scoring, Contract)))  # type: ignore[misc]
