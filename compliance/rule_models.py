"""The models of a contract's scoring rules, one per built-in kind (``rules:`` of a part).

A part's score is a handful of rules of a small set of kinds; each model below validates one
(``kind:`` picks it) and ``compliance.rules`` scores it. More kinds register through
``compliance.kinds`` (a ``RuleBase`` with ``kind: Literal["..."]``):

- ``manual``: a value recorded by hand (a satisfaction form), with a default when absent;
- ``count``: records counted per unit or per system, a ladder or points each with a cap;
- ``per_day``: a record expected every (working) day, points per missed day;
- ``deduction`` / ``bonus``: points per event (fault, vulnerability, record), fixed, by a field,
  taken from the record, or by tiers of a measured time;
- ``documents``: required documents present, as a ratio of the part or points per missing one;
- ``consecutive_missing``: a system without a kind of record two periods running.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from compliance.kinds import rule_model
from inventory.models import Strict

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
