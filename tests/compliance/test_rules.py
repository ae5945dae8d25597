"""Table-driven tests of every rule kind, of a part's floor, cap and bonuses, and of grading.

Each case is a tiny contract with one part, a few ledger lines in November 2026 (calendar
month; October for working days) and the part's value computed by hand."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compliance.calculate import compute
from compliance.contract_file import contract_from_data
from compliance.events import parse_event
from compliance.ledger import build_ledger
from compliance.periods import parse_period
from core.errors import InputError
from core.timefmt import parse_iso
from inventory.yamlsource import Located
from tests.compliance.ledgers import Line, agent, fault, rec, t, vuln

LEVELS = {1: {"respond_minutes": 10, "resolve_hours": 2}, 2: {"respond_minutes": 10, "resolve_hours": 4},
          3: {"respond_minutes": 20, "resolve_hours": 24}, 4: {"respond_minutes": 30, "resolve_hours": 24}}
BASE: dict[str, Any] = {
    "id": "t",
    "term": {"start": "2026-06-01", "end": "2027-05-31"},
    "units": [{"id": "u1"}],
    "systems": [{"id": "s1", "unit": "u1"}, {"id": "s2", "unit": "u1"}, {"id": "lease", "unit": "u1", "category": "line_lease"}],
    "faults": {"levels": LEVELS},
    "money": {"fee_per_period": 100000},
    "scoring": {"parts": []},
    "grades": {"bands": [{"min": 90, "grade": "A", "cut_percent": 0}, {"min": 80, "grade": "B", "cut_percent": 5},
                         {"min": None, "grade": "C", "cut_percent": 100}]},
}
RUN = [agent("2026-05-01T00:00", "running"), agent("2027-01-01T00:00", "stopped")]


def score(rule: dict[str, Any] | None, lines: list[Line] = (), part: dict[str, Any] | None = None,
          contract: dict[str, Any] | None = None, period: str = "2026-11", now: str = "2026-12-05T00:00") -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(contract or {})
    the_part = {"id": "p", "points": 10, **(part or {})}
    the_part.setdefault("rules", [rule] if rule else [])
    if not data["scoring"].get("parts") and not data["scoring"].get("tables"):
        data["scoring"] = {**data["scoring"], "parts": [the_part]}
    built = contract_from_data(data, Located("test.yaml", data, {}))
    ledger = build_ledger([parse_event(x) for x in lines], [("", parse_iso(t("2026-05-01T00:00")),
                                                                  parse_iso(t("2027-01-01T00:00")))])
    result = compute(built, ledger, parse_period(period, built.period, built.timezone), parse_iso(t(now)))
    return result


def value(result: dict[str, Any], part_id: str = "p") -> float:
    return next(p["value"] for p in result["parts"] if p["id"] == part_id)


def items(result: dict[str, Any], part_id: str = "p") -> list[float]:
    return [i["points"] for i in next(p for p in result["parts"] if p["id"] == part_id)["items"]]


NOV = "2026-11-10T10:00"

# -- manual value with a default -----------------------------------------------------------------

MANUAL = {"kind": "manual", "record": "satisfaction"}


@pytest.mark.parametrize(
    ("rule", "lines", "expected"),
    [
        (MANUAL, [], 10.0),                                                     # nothing sent: full
        ({**MANUAL, "default": 6}, [], 6.0),                                    # nothing sent: the default
        (MANUAL, [rec("satisfaction", "u1", NOV, points=7.5)], 7.5),           # points recorded
        (MANUAL, [rec("satisfaction", "u1", NOV, points=12)], 10.0),           # capped at the part
        (MANUAL, [rec("satisfaction", "u1", NOV, answers=["满意", "不满意"])], 5.0),        # (1 + 0) / 2 x 10
        (MANUAL, [rec("satisfaction", "u1", NOV, answers={"q1": "基本满意", "q2": "一般"})], 7.0),  # (0.8+0.6)/2
        (MANUAL, [rec("satisfaction", "u1", NOV, answers=["满意"], accident=True)], 0.0),  # accident: 0
        ({**MANUAL, "accident_points": None}, [rec("satisfaction", "u1", NOV, answers=["满意"], accident=True)], 10.0),
        (MANUAL, [rec("satisfaction", "u1", "2026-11-02T10:00", points=2),      # the latest form counts
                  rec("satisfaction", "u1", "2026-11-20T10:00", points=9)], 9.0),
        (MANUAL, [rec("satisfaction", "u1", "2026-10-30T10:00", points=2)], 10.0),  # last month's form: ignored
    ],
)
def test_manual(rule: dict[str, Any], lines: list[Line], expected: float) -> None:
    assert value(score(rule, [*RUN, *lines], {"start": "zero"})) == expected


# -- count ladder / points each with a cap ---------------------------------------------------------


def inspections(*days: int, system: str | None = None, kind: str = "inspection") -> list[Line]:
    return [rec(kind, "u1", f"2026-11-{d:02d}T10:00", system) for d in days]


@pytest.mark.parametrize(
    ("rule", "lines", "expected"),
    [
        ({"record": "visit", "ladder": [{"at_least": 1, "points": 10}]}, [], 0.0),
        ({"record": "visit", "ladder": [{"at_least": 1, "points": 10}]}, inspections(3, kind="visit"), 10.0),
        ({"record": "visit", "ladder": [{"at_least": 1, "points": 4}, {"at_least": 3, "points": 10}]},
         inspections(3, 4, kind="visit"), 4.0),
        ({"record": "inspection", "points_each": 2, "cap": 10}, inspections(2, 9, 16), 6.0),
        ({"record": "inspection", "points_each": 2, "cap": 10}, inspections(2, 4, 9, 16, 23, 30), 10.0),    # capped
        # per week: 2 and 4 November are the same Monday-Sunday week -> 3 weeks x 2 = 6 (not 8)
        ({"record": "inspection", "points_each": 2, "cap": 10, "count_by": "week"}, inspections(2, 4, 9, 16), 6.0),
        ({"record": "inspection", "points_each": 2, "cap": 10, "count_by": "day"},
         [*inspections(2, 9), rec("inspection", "u1", "2026-11-09T15:00")], 4.0),
        ({"record": "inspection", "points_each": 2, "cap": 10, "where": {"result": ["ok"]}},
         [rec("inspection", "u1", NOV, result="ok"), rec("inspection", "u1", NOV, result="failed", note="x")], 2.0),
        # per system, averaged over s1 and s2 (the line lease is exempt): (4 + 1) / 2 = 2.5
        ({"record": "backup", "per": "system", "points_each": 1, "cap": 4},
         [*inspections(2, 3, 4, 5, 6, system="s1", kind="backup"), *inspections(2, system="s2", kind="backup")], 2.5),
        # summed instead: -0.5 for each system without one (s2)
        ({"record": "inspection", "per": "system", "combine": "sum",
          "ladder": [{"at_least": 0, "points": -0.5}, {"at_least": 1, "points": 0}]}, inspections(2, system="s1"), 9.5),
    ],
)
def test_count(rule: dict[str, Any], lines: list[Line], expected: float) -> None:
    rule = {"kind": "count", **rule}
    top = rule.get("cap") or max(s["points"] for s in rule.get("ladder", [{"points": 0}]))
    start = "full" if top <= 0 else "zero"
    points = 10 if start == "full" else top
    assert value(score(rule, [*RUN, *lines], {"start": start, "points": points,
                                              "exempt_categories": ["line_lease"]})) == expected


def test_count_part_of_a_unit_with_only_exempt_systems_gets_full_marks() -> None:
    contract = {"systems": [{"id": "lease", "unit": "u1", "category": "line_lease"}]}
    rule = {"kind": "count", "record": "visit", "ladder": [{"at_least": 1, "points": 10}]}
    result = score(rule, RUN, {"start": "zero", "exempt_categories": ["line_lease"]}, contract)
    assert value(result) == 10.0


# -- per (working) day ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "days", "period", "now", "expected"),
    [
        # October 2026: 1-7 off (National Day), Saturday 10 worked: 18 working days; checks on 8, 9, 12 only
        ({"days": "working"}, [8, 9, 12], "2026-10", "2026-11-05T00:00", 10 - 15),
        ({"days": "working"}, [8, 9, 10, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 26, 27, 28, 29, 30],
         "2026-10", "2026-11-05T00:00", 10.0),
        # a check on a holiday does not replace one on a working day
        ({"days": "working"}, [1, 2, 8, 9, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 26, 27, 28, 29, 30],
         "2026-10", "2026-11-05T00:00", 9.0),
        # days not over yet are not missed: on 10 October 12:00 only 8 and 9 are due
        ({"days": "working"}, [8], "2026-10", "2026-10-10T12:00", 9.0),
        ({"days": "all", "points_each": 0.5}, list(range(1, 29)), "2026-10", "2026-11-05T00:00", 8.5),  # 29-31 missed
    ],
)
def test_per_day(rule: dict[str, Any], days: list[int], period: str, now: str, expected: float) -> None:
    rule = {"kind": "per_day", "record": "inspection", "points_each": 1, **rule}
    lines = [rec("inspection", "u1", f"2026-10-{d:02d}T08:30", "s1") for d in days]
    result = score(rule, [*RUN, *lines], {"floor": None}, period=period, now=now)
    assert value(result) == expected


# -- points per event: records ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "lines", "expected"),
    [
        ({"record": "complaint", "points": 1}, [rec("complaint", "u1", NOV), rec("complaint", "u1", NOV, reason="b")], 8.0),
        ({"record": "notice", "points_by": {"field": "level", "map": {"city": 5, "province": 10}}},
         [rec("notice", "u1", NOV, level="city"), rec("notice", "u1", NOV, level="province")], -5.0),
        ({"record": "complaint", "points_from": {"field": "points", "min": 1, "max": 4, "default": 4}},
         [rec("complaint", "u1", NOV, points=0.5), rec("complaint", "u1", NOV, points=9), rec("complaint", "u1", NOV)],
         10 - 1 - 4 - 4),
        ({"record": "staff_shortfall", "points": 0.5, "multiply_by": "missing"},
         [rec("staff_shortfall", "u1", NOV, missing=3)], 8.5),
        # by part: only deductions naming this part, or none when this is the default part
        ({"record": "deduction", "by_part": True, "points_from": {"field": "points"}},
         [rec("deduction", "u1", NOV, points=2, reason="a", part="p"), rec("deduction", "u1", NOV, points=3, reason="b",
                                                                             part="other"),
          rec("deduction", "u1", NOV, points=1, reason="c")], 8.0),
        ({"record": "deduction", "by_part": True, "takes_unassigned": True, "points_from": {"field": "points"}},
         [rec("deduction", "u1", NOV, points=1, reason="c")], 9.0),
        ({"record": "complaint", "points": 1, "where": {"system": ["s1"]}},
         [rec("complaint", "u1", NOV, "s1"), rec("complaint", "u1", NOV, "s2")], 9.0),
    ],
)
def test_record_deductions(rule: dict[str, Any], lines: list[Line], expected: float) -> None:
    rule = {"kind": "deduction", "source": "records", **rule}
    assert value(score(rule, [*RUN, *lines], {"floor": None})) == expected


def test_deduction_records_go_to_the_default_part() -> None:
    contract = {"scoring": {"default_part": "p", "parts": [{"id": "p", "points": 10, "rules": [
        {"kind": "deduction", "source": "records", "record": "deduction", "by_part": True, "points_from": {"field": "points"}}]}]}}
    result = score(None, [*RUN, rec("deduction", "u1", NOV, points=3, reason="x")], contract=contract)
    assert value(result) == 7.0


# -- points per event: faults ---------------------------------------------------------------------


def f(id_: str, level: int, ack_min: float | None, res_min: float | None, **extra: Any) -> Line:
    opened = parse_iso(t("2026-11-10T10:00"))
    from core.timefmt import to_iso

    return fault(id_, level, "2026-11-10T10:00", to_iso(opened + ack_min * 60)[:16] if ack_min is not None else None,
                 to_iso(opened + res_min * 60)[:16] if res_min is not None else None, unit="u1", **extra)


FAULTS = {"kind": "deduction", "source": "faults"}


@pytest.mark.parametrize(
    ("rule", "lines", "expected"),
    [
        # level 2: respond 10 min, resolve 4 h; exactly on the deadline is in time
        ({"points": 5}, [f("a", 2, 10, 240)], 10.0),
        ({"points": 5}, [f("a", 2, 11, 240)], 5.0),
        ({"points": 5}, [f("a", 2, 11, 241)], 0.0),                          # both deadlines: twice
        ({"points": 5, "once_per_fault": True}, [f("a", 2, 11, 241)], 5.0),
        ({"points": 5, "checks": ["resolution"]}, [f("a", 2, 11, 241)], 5.0),
        ({"points_by": {"field": "level", "map": {"1": 4, "3": 1}}}, [f("a", 1, 30, 60), f("b", 3, 30, 60)], 5.0),
        # resolving first answers too: resolved after 8 min, never acknowledged -> response in time
        ({"points": 5}, [f("a", 2, None, 8)], 10.0),
        # still open on 5 December: both deadlines long passed
        ({"points": 5}, [f("a", 2, None, None)], 0.0),
        # waived faults cost nothing (unless the rule says so)
        ({"points": 5}, [f("a", 2, 60, 600, waived="force_majeure")], 10.0),
        ({"points": 5, "honour_waivers": False}, [f("a", 2, 60, 600, waived="maintenance")], 0.0),
        # own thresholds
        ({"points": 3, "checks": ["response"], "response_over_minutes": 15}, [f("a", 2, 14, 1), f("b", 2, 16, 20)], 7.0),
        ({"points": 5, "where": {"party": ["vendor"]}}, [f("a", 2, 60, 600), f("b", 2, 60, 600, party="vendor")], 0.0),
        ({"points_from": {"field": "points", "default": 10}, "checks": ["response"]},
         [f("a", 2, 60, 70, points=6)], 4.0),
        # a fault of October: its response deadline (10-31 23:10) passed in October, not charged here; its
        # resolution deadline (11-01 03:00) passed in November: charged in November (issue 13, reading 6)
        ({"points": 5}, [fault("old", 2, "2026-10-31T23:00", None, "2026-11-01T10:00", unit="u1")], 5.0),
        ({"points": 5}, [fault("old", 2, "2026-10-31T19:00", None, "2026-11-01T10:00", unit="u1")], 10.0),  # both in October
    ],
)
def test_fault_deductions(rule: dict[str, Any], lines: list[Line], expected: float) -> None:
    assert value(score({**FAULTS, **rule}, [*RUN, *lines], {"floor": None})) == expected


RESPONSE_TIERS = {"measure": "response", "steps": [{"over_minutes": 10, "points": 1}, {"over_minutes": 30, "points": 5},
                                                   {"over_minutes": 60, "points": 20}]}
OUTAGE_TIERS = {"measure": "resolution", "steps": [{"over_minutes": 0, "points": 5}, {"from_minutes": 10, "points": 10},
                                                   {"from_minutes": 30, "points": 20}],
                "then_every": {"after_minutes": 60, "minutes": 60, "points": 10}}


@pytest.mark.parametrize(
    ("tiers", "ack", "res", "expected_loss"),
    [
        (RESPONSE_TIERS, 10, 90, 0),      # exactly 10 min: answered in time
        (RESPONSE_TIERS, 11, 90, 1),
        (RESPONSE_TIERS, 30, 90, 1),
        (RESPONSE_TIERS, 31, 90, 5),
        (RESPONSE_TIERS, 61, 90, 20),
        (OUTAGE_TIERS, 1, 9, 5),          # < 10 min
        (OUTAGE_TIERS, 1, 10, 10),        # at 10 min the "< 30 min" step applies
        (OUTAGE_TIERS, 1, 59, 20),
        (OUTAGE_TIERS, 1, 60, 20),        # exactly 1 h: no further hour has started
        (OUTAGE_TIERS, 1, 61, 30),        # each started hour after the first: +10
        (OUTAGE_TIERS, 1, 119, 30),
        (OUTAGE_TIERS, 1, 120, 30),
        (OUTAGE_TIERS, 1, 121, 40),
        ({**OUTAGE_TIERS, "then_every": {"after_minutes": 60, "minutes": 60, "points": 10, "rounding": "full"}},
         1, 119, 20),
        ({**OUTAGE_TIERS, "then_every": {"after_minutes": 60, "minutes": 60, "points": 10, "rounding": "full"}},
         1, 121, 30),
    ],
)
def test_fault_tiers(tiers: dict[str, Any], ack: float, res: float, expected_loss: float) -> None:
    result = score({**FAULTS, "tiers": tiers}, [*RUN, f("a", 1, ack, res)], {"points": 100, "floor": None})
    assert value(result) == 100 - expected_loss


# -- points per event: vulnerabilities --------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (vuln("v", "u1", "s1", "critical", NOV, fixed="2026-11-11T10:00"), 10.0),     # exactly 24 h
        (vuln("v", "u1", "s1", "critical", NOV, fixed="2026-11-11T10:01"), 0.0),
        (vuln("v", "u1", "s1", "critical", NOV, mitigated="2026-11-10T11:00"), 0.0),  # mitigation is no fix
        (vuln("v", "u1", "s1", "high", NOV, fixed="2026-11-17T10:00"), 10.0),          # 7 days
        (vuln("v", "u1", "s1", "high", NOV, fixed="2026-11-17T10:01"), 5.0),
        (vuln("v", "u1", "s1", "medium", NOV, mitigated="2026-11-24T10:00"), 10.0),    # 14 days, mitigated
        (vuln("v", "u1", "s1", "low", NOV), 9.0),                                      # open 25 days > 15
    ],
)
def test_vuln_deductions(line: Line, expected: float) -> None:
    rule = {"kind": "deduction", "source": "vulns",
            "points_by": {"field": "severity", "map": {"critical": 10, "high": 5, "medium": 1, "low": 1}}}
    assert value(score(rule, [*RUN, line])) == expected


# -- floors, caps and bonuses -----------------------------------------------------------------------

PRAISE = {"kind": "bonus", "source": "records", "record": "praise", "points": 10}
COMPLAINTS = {"kind": "deduction", "source": "records", "record": "complaint", "points": 20}


@pytest.mark.parametrize(
    ("part", "complaints", "praises", "expected"),
    [
        ({"points": 30}, 0, 1, 40.0),                                  # a bonus may exceed the points
        ({"points": 30}, 1, 1, 20.0),
        ({"points": 30}, 2, 1, 10.0),                                  # max(0, 30 - 40) + 10: floor first
        ({"points": 30, "bonus_order": "before_floor"}, 2, 1, 0.0),    # 30 - 40 + 10 = 0 (bonus offsets first)
        ({"points": 30}, 3, 0, 0.0),                                   # floor 0
        ({"points": 30, "floor": None}, 3, 0, -30.0),                  # no floor
        ({"points": 30, "floor": 5}, 3, 0, 5.0),
    ],
)
def test_part_floor_and_bonuses(part: dict[str, Any], complaints: int, praises: int, expected: float) -> None:
    lines = [rec("complaint", "u1", NOV, reason=str(i)) for i in range(complaints)]
    lines += [rec("praise", "u1", NOV, reason=str(i)) for i in range(praises)]
    assert value(score(None, [*RUN, *lines], {**part, "rules": [COMPLAINTS, PRAISE]})) == expected


def test_earned_points_are_capped_at_the_part() -> None:
    rules = [{"kind": "count", "record": "visit", "ladder": [{"at_least": 1, "points": 6}]},
             {"kind": "count", "record": "scan", "ladder": [{"at_least": 1, "points": 4}]}]
    lines = [*inspections(3, kind="visit"), *inspections(4, kind="scan")]
    assert value(score(None, [*RUN, *lines], {"start": "zero", "rules": rules})) == 10.0
    assert value(score(None, [*RUN, *lines[:1]], {"start": "zero", "rules": rules})) == 6.0


# -- documents ------------------------------------------------------------------------------------

DOCS = {"kind": "documents", "required": [
    {"name": "实施方案", "frequency": "once"},
    {"name": "月报", "frequency": "monthly"},
    {"name": "季报", "frequency": "quarterly"},
    {"name": "演练", "frequency": "yearly"},
    {"name": "故障分析报告", "frequency": "per_fault"},
    {"name": "重大事件上报", "frequency": "per_fault", "levels": [1, 2]},
]}


def doc(at: str, name: str, **extra: Any) -> Line:
    return rec("document", "u1", at, document=name, **extra)


@pytest.mark.parametrize(
    ("rule", "lines", "period", "expected"),
    [
        # November 2026 (term from June: months 5 = Nov -> Sep-Nov quarter ends): 4 due, no faults
        (DOCS, [doc("2026-06-02T10:00", "实施方案"), doc("2026-11-30T10:00", "月报"), doc("2026-09-15T10:00", "季报"),
                doc("2026-01-15T10:00", "演练")], "2026-11", 10.0),
        # no quarterly report: 2 of 3 (the yearly drill is judged in the contract year's last month) -> 6.67
        (DOCS, [doc("2026-06-02T10:00", "实施方案"), doc("2026-11-30T10:00", "月报"), doc("2025-12-15T10:00", "演练")],
         "2026-11", 6.66),
        # same, counting the documents not due (yearly, the two per-fault ones) as present: 5 of 6 -> 8.33
        ({**DOCS, "not_applicable": "present"},
         [doc("2026-06-02T10:00", "实施方案"), doc("2026-11-30T10:00", "月报"), doc("2026-01-15T10:00", "演练")],
         "2026-11", 8.33),
        # October ends neither a quarter nor the contract year: 2 of 2
        (DOCS, [doc("2026-06-02T10:00", "实施方案"), doc("2026-10-30T10:00", "月报"), doc("2025-10-15T10:00", "演练")],
         "2026-10", 10.0),
        # a level-2 fault needs both fault documents; only the analysis report is there: 4 of 5
        (DOCS, [doc("2026-06-02T10:00", "实施方案"), doc("2026-11-30T10:00", "月报"), doc("2026-09-15T10:00", "季报"),
                doc("2026-01-15T10:00", "演练"), f("F9", 2, 5, 30), doc("2026-11-11T10:00", "故障分析报告", fault="F9")],
         "2026-11", 8.0),
        # per missing: weekly reports of the weeks ending in November 2026 (10-26..11-01, 11-02..08, 09..15,
        # 16..22, 23..29; 11-30..12-06 is December's): 09..15 and 23..29 missing
        ({"kind": "documents", "mode": "per_missing", "points_each": 1,
          "required": [{"name": "周报", "frequency": "weekly"}]},
         [doc("2026-11-01T10:00", "周报"), doc("2026-11-06T10:00", "周报"), doc("2026-11-20T10:00", "周报")], "2026-11", 8.0),
        ({"kind": "documents", "required": [{"name": "季度报告", "frequency": "quarterly", "aliases": ["季报"]}]},
         [doc("2026-10-15T10:00", "季报")], "2026-11", 10.0),
    ],
)
def test_documents(rule: dict[str, Any], lines: list[Line], period: str, expected: float) -> None:
    start = "full" if rule.get("mode") == "per_missing" else "zero"
    assert value(score(rule, [*RUN, *lines], {"start": start}, period=period, now="2026-12-05T00:00")) == expected


# -- consecutive months without a kind of record ----------------------------------------------------

CONSECUTIVE = {"kind": "consecutive_missing", "records": ["backup", "scan"], "points": 5,
               "skip_categories": ["line_lease"]}


@pytest.mark.parametrize(
    ("rule", "lines", "period", "expected"),
    [
        # s1 and s2 (the lease is skipped), nothing in October or November: 2 systems x 2 kinds x 5
        (CONSECUTIVE, [], "2026-11", -20.0),
        ({**CONSECUTIVE, "count": "per_system"}, [], "2026-11", -10.0),
        # s1 backed up last month, s2 scanned this month
        (CONSECUTIVE, [rec("backup", "u1", "2026-10-05T10:00", "s1"), rec("scan", "u1", NOV, "s2")], "2026-11", -10.0),
        # a unit-level kind: the unit's visit covers all its systems
        ({**CONSECUTIVE, "records": ["visit"], "unit_level": ["visit"]}, [rec("visit", "u1", NOV)], "2026-11", 0.0),
        ({**CONSECUTIVE, "records": ["visit"]}, [rec("visit", "u1", NOV)], "2026-11", -10.0),
        # June is the term's first month: no previous month under the contract
        (CONSECUTIVE, [], "2026-06", 0.0),
    ],
)
def test_consecutive_missing(rule: dict[str, Any], lines: list[Line], period: str, expected: float) -> None:
    result = score(rule, [*RUN, *lines], {"points": 0, "floor": None}, period=period,
                   now="2026-12-05T00:00" if period == "2026-11" else "2026-07-05T00:00")
    assert value(result) == expected


# -- recurring faults: "same fault or vulnerability recurring (incomplete fix): ¥20,000 each" -------------


def cam(id_: str, opened: str, resolved: str | None, **extra: Any) -> Line:
    extra.setdefault("cause", "设备离线")
    return fault(id_, 3, opened, opened, resolved, unit="u1", device="cam-1", **extra)


A = cam("a", "2026-11-02T10:00", "2026-11-02T12:00")                      # fixed by hand (no resolved_how)
A_AUTO = cam("a", "2026-11-02T10:00", "2026-11-02T12:00", resolved_how="auto")  # came back on its own
B = cam("b", "2026-11-15T10:00", "2026-11-15T11:00")


@pytest.mark.parametrize(
    ("setting", "lines", "expected"),
    [
        (None, [A, B], {"b": "a"}),                                        # same device and cause 13 days after a fix
        (None, [A_AUTO, B], {}),                                           # nobody fixed a: a camera that drops twice
        ("resolution", [A_AUTO, B], {"b": "a"}),                           # the stricter reading: any resolution
        (None, [A, cam("b", "2026-11-15T10:00", None, cause="镜头污损")], {}),  # another cause
        (None, [cam("a", "2026-10-01T10:00", "2026-10-01T12:00"), B], {}),  # 44 days after the fix
        (None, [cam("a", "2026-11-02T10:00", None), B], {}),                # a still open: never fixed
        (None, [cam("a", "2026-11-02T10:00", "2026-11-02T12:00", resolved_how="absorbed"), B], {}),
        (None, [cam("a", "2026-11-02T10:00", "2026-11-02T12:00", waived="force_majeure"), B], {}),  # typhoon
        (None, [A, cam("b", "2026-11-15T10:00", "2026-11-15T11:00", waived="force_majeure")], {}),
        ("resolution", [A, cam("b", "2026-11-15T10:00", "2026-11-15T11:00", waived="force_majeure")], {"b": "a"}),
        # marked by hand, whatever the cause text says
        (None, [A, cam("b", "2026-11-15T10:00", None, cause="供电", recurrence_of="a")], {"b": "a"}),
        # alerting marks a re-drop after an automatic recovery: not an incomplete fix ...
        (None, [A_AUTO, cam("b", "2026-11-15T10:00", None, recurring=True, recurrence_of="a")], {}),
        ("resolution", [A_AUTO, cam("b", "2026-11-15T10:00", None, recurrence_of="a")], {"b": "a"}),
        # ... but the fault that was fixed before it is still found
        (None, [cam("z", "2026-11-01T08:00", "2026-11-01T09:00"), A_AUTO,
                cam("b", "2026-11-15T10:00", None, recurrence_of="a")], {"a": "z", "b": "z"}),
        # named after a fault of an earlier month this ledger does not hold: the mark is trusted
        (None, [cam("b", "2026-11-15T10:00", None, recurrence_of="F-2025-1")], {"b": "F-2025-1"}),
    ],
)
def test_recurring_faults(setting: str | None, lines: list[Line], expected: dict[str, str]) -> None:
    levels = {**BASE["faults"], **({"recurring_after": setting} if setting else {})}
    contract = {"faults": levels, "penalties": [{"id": "r", "kind": "recurring", "amount": 20000, "sources": ["faults"]}]}
    result = score(None, [*RUN, *lines], contract=contract)
    assert {x["id"]: x["recurrence_of"] for x in result["faults"]["items"] if x["recurrence_of"]} == expected
    assert result["penalty_amount"] == 20000 * len(expected)
    assert [p["ref"] for p in result["penalties"]] == [f"fault:{x}" for x in sorted(expected)]


# -- averaging over units, tables and grades ---------------------------------------------------------


def test_units_are_averaged_and_unit_less_faults_hit_every_unit() -> None:
    contract = {"units": [{"id": "u1"}, {"id": "u2"}], "systems": [],
                "scoring": {"average_over": "units", "parts": [{"id": "p", "points": 10, "rules": [
                    {"kind": "deduction", "source": "records", "record": "complaint", "points": 4},
                    {"kind": "deduction", "source": "faults", "checks": ["response"], "points": 1}]}]}}
    lines = [rec("complaint", "u1", NOV), rec("complaint", "*", NOV, reason="shared"),
             fault("x", 2, "2026-11-10T10:00", "2026-11-10T10:30", "2026-11-10T11:00", device="unknown-box")]
    result = score(None, [*RUN, *lines], contract=contract)
    # u1: 10 - 4 - 4 - 1 = 1; u2: 10 - 4 - 1 = 5; mean 3
    assert {u["id"]: u["score"] for u in result["units"]} == {"u1": 1.0, "u2": 5.0}
    assert result["score"] == 3.0


def test_tables_combine_by_min_or_mean() -> None:
    tables = [{"id": "a", "parts": [{"id": "pa", "points": 100, "rules": [
        {"kind": "deduction", "source": "records", "record": "complaint", "points": 30}]}]},
              {"id": "b", "systems": ["s2"], "parts": [{"id": "pb", "points": 100, "rules": []}]}]
    # the complaint names s1: it counts in table a only (table b covers s2)
    lines = [rec("complaint", "u1", NOV, "s1")]
    assert score(None, [*RUN, *lines], contract={"scoring": {"tables": tables}})["score"] == 70.0
    assert score(None, [*RUN, *lines], contract={"scoring": {"tables": tables, "combine_tables": "mean"}})["score"] == 85.0


@pytest.mark.parametrize(
    ("rounding", "points_lost", "grade", "cut"),
    [
        ("none", 10, "A", 0),          # 90: the band's minimum is in the band
        ("none", 10.5, "B", 5),        # 89.5
        ("integer", 10.5, "A", 0),     # 89.5 -> 90
        ("integer", 10.6, "B", 5),     # 89.4 -> 89
        ("one_decimal", 10.04, "A", 0),  # 89.96 -> 90.0
        ("none", 20.01, "C", 100),     # 79.99
    ],
)
def test_grade_bands_and_rounding(rounding: str, points_lost: float, grade: str, cut: float) -> None:
    rule = {"kind": "deduction", "source": "records", "record": "deduction", "points_from": {"field": "points"}}
    grades = {"rounding": rounding, "bands": BASE["grades"]["bands"]}
    result = score(rule, [*RUN, rec("deduction", "u1", NOV, points=points_lost, reason="x")], {"points": 100},
                   contract={"grades": grades})
    assert (result["grade"], result["cut_percent"], result["cut_amount"]) == (grade, cut, 100000 * cut / 100)


def test_a_year_report_is_refused_for_a_monthly_contract() -> None:
    with pytest.raises(InputError, match="assessed monthly"):
        score(None, RUN, period="2026")


def test_a_year_report_needs_every_months_document() -> None:
    contract = {"period": {"kind": "calendar_month", "assessment": "year"}}
    rule = {"kind": "documents", "mode": "per_missing", "points_each": 1,
            "required": [{"name": "月报", "frequency": "monthly"}, {"name": "季报", "frequency": "quarterly"}]}
    lines = [doc(f"2026-{m:02d}-28T10:00", "月报") for m in range(1, 13) if m not in (3, 7)]
    lines += [doc(f"2026-{m:02d}-28T10:00", "季报") for m in (3, 6, 9)]  # none in the last quarter
    result = score(rule, [*RUN, *lines], {"start": "full"}, contract=contract, period="2026", now="2027-01-05T00:00")
    assert value(result) == 10 - 2 - 1
    assert result["period"]["provisional"] is False
