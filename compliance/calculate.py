"""One contract, one period, one ledger → the result every report format renders.

``compute`` is pure: the ledger, contract, inventory and the clock (``now``) come in, a plain
JSON-ready dict comes out. No file, store or network is touched; progress goes to a callback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from compliance.contract import Contract
from compliance.display import minute, money_value, points_value, rate_value, score_value
from compliance.events import maintenance_span
from compliance.i18n import Texts
from compliance.ledger import Ledger
from compliance.online import OnlineResult, compute_online
from compliance.periods import Period, shift
from compliance.rules import Item
from compliance.scope import Scope, build_scope
from compliance.scoring import Events, Scorecard, scorecard
from compliance.sla import (
    FaultOutcome,
    FaultSummary,
    VulnOutcome,
    fault_outcomes,
    pending,
    summarize_faults,
    vuln_outcomes,
)
from core.errors import InputError
from core.timefmt import to_iso

SCHEMA = "yunwei.compliance/1"


def compute(
    contract: Contract,
    ledger: Ledger,
    period: Period,
    now: float,
    inventory: object | None = None,
    language: str = "zh",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The period's online rates, fault and vulnerability outcomes, score, grade, money cut and
    penalties, with the evidence behind every point. Raises InputError when the ledger holds
    nothing for the period."""
    say = progress or (lambda _message: None)
    texts = Texts(language)
    warnings: list[str] = list(ledger.warnings)
    if contract.period.assessment == "month" and period.kind == "year":
        raise InputError.single("command line", f"contract {contract.id} is assessed monthly: give a month such as"
                                f" {period.first.year}-{period.first.month:02d}", field="--period")
    scope = build_scope(contract, inventory, ledger.states.keys(), texts)
    warnings.extend(scope.warnings)
    _require_data(contract, ledger, scope, period, now)
    if contract.term is not None and (period.last < contract.term.start or period.first > contract.term.end):
        warnings.append(texts("warn_outside_term", period=period.label, start=contract.term.start, end=contract.term.end))
    if not ledger.has_runs:
        warnings.append(texts("warn_no_runs"))

    # the cut-off: a closed period is judged at its end, whatever day the report is run
    cutoff = min(now, period.end)
    members = sum(len(g.members) for g in scope.groups)
    say(f"online rates: {len(scope.groups)} groups, {members} devices")
    online = compute_online(ledger, scope.groups, period, cutoff, contract.online_rate)
    say(f"faults: {sum(1 for f in ledger.faults if period.contains(f.opened))}, vulnerabilities:"
        f" {sum(1 for v in ledger.vulns if period.contains(v.found))}")
    faults = fault_outcomes(contract, scope, ledger.faults, period, cutoff, now)
    summary = summarize_faults(contract, faults, cutoff)
    vulns = vuln_outcomes(contract, ledger.vulns, period, cutoff, now)
    undecided = pending(faults, vulns)
    evidence = Events([r for r in ledger.records if r.at < cutoff], faults, vulns)
    say("score: " + ", ".join(p.id for _, p in contract.scoring.all_parts()))
    card = scorecard(contract, scope, period, shift(period, -1), cutoff, evidence, online, summary, texts, warnings)
    return _result(contract, scope, period, now, language, online, faults, summary, vulns, ledger, card,
                   list(dict.fromkeys(warnings)), undecided)


def provisional_reasons(contract: Contract, period: Period, now: float, texts: Texts, undecided: int = 0) -> list[str]:
    """Why a report's figures may still change (none: the period is closed and final)."""
    reasons = []
    if undecided:
        reasons.append(texts("provisional_pending", count=undecided))
    if now < period.end:
        reasons.append(texts("provisional_open", until=minute(now, contract.timezone),
                             end=minute(period.end, contract.timezone)))
    if contract.period.assessment == "year" and period.kind == "month":
        reasons.append(texts("provisional_annual"))
    return reasons


def _require_data(contract: Contract, ledger: Ledger, scope: Scope, period: Period, now: float) -> None:
    devices = {m for g in scope.groups for m in g.members}
    if any(states and states[0][0] < period.end for d, states in ledger.states.items() if d in devices):
        return
    if any(period.contains(f.opened) for f in ledger.faults) or any(period.contains(v.found) for v in ledger.vulns):
        return
    if any(period.contains(r.at) for r in ledger.records):
        return
    if any(s < period.end and e > period.start for runs in ledger.runs.values() for s, e in runs):
        return
    raise InputError.single(
        ledger.source or "ledger",
        f"no ledger data for contract {contract.id} in period {period.label}"
        f" ({period.first.isoformat()}..{period.last.isoformat()}): no state changes of its devices, faults,"
        " vulnerabilities, records or agent runs",
    )


# -- the JSON-ready result ----------------------------------------------------------------------


number = score_value  # scores and points: two decimals, truncated
_rate = rate_value    # rates: 0.9520 is 95.20 %


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


def _item(item: Item, tz: str) -> dict[str, Any]:
    return {
        "rule": item.rule,
        "points": points_value(item.points),
        "reason": item.reason,
        "ref": item.ref,
        "at": to_iso(item.at, tz) if item.at is not None else None,
        "unit": item.unit,
        "system": item.system,
    }


def _result(contract: Contract, scope: Scope, period: Period, now: float, language: str, online: OnlineResult,
            faults: list[FaultOutcome], summary: FaultSummary, vulns: list[VulnOutcome], ledger: Ledger,
            card: Scorecard, warnings: list[str], undecided: int = 0) -> dict[str, Any]:
    tz = contract.timezone
    english = language == "en"
    texts = Texts(language)
    reasons = provisional_reasons(contract, period, now, texts, undecided)
    averaging = contract.scoring.average_over == "units"
    n_units = len(card.units)
    parts = []
    for table, part in contract.scoring.all_parts():
        scores = [ps for u in card.units for ps in u.parts if ps.part.id == part.id and ps.table == table.id]
        value = sum((ps.value for ps in scores), Fraction(0)) / n_units
        items = [_item(i, tz) for ps in scores for i in ps.items]
        parts.append({
            "id": part.id,
            "table": table.id,
            "name": (part.name_en or part.name or part.id) if english else (part.name or part.id),
            "points": part.points,
            "value": number(value),
            "lost": number(Fraction(str(part.points)) - value),
            "items": items,
        })
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "contract": {"id": contract.id, "name": contract.name, "customer": contract.customer, "timezone": tz},
        "period": {
            "label": period.label,
            "kind": period.kind,
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
            "start": to_iso(period.start, tz),
            "end": to_iso(period.end, tz),
            "assessment": contract.period.assessment,
            "provisional": bool(reasons),
            "provisional_reasons": reasons,
            "cutoff": to_iso(min(now, period.end), tz),
        },
        "language": language,
        "generated_at": to_iso(now, tz),
        "data_until": to_iso(online.end, tz),
        "score": number(card.score),
        "score_exact": f"{card.score.numerator}/{card.score.denominator}" if card.score.denominator != 1 else str(card.score.numerator),
        "graded_score": number(card.graded),
        "grade": (card.band.grade_en or card.band.grade) if english else card.band.grade,
        "cut_percent": card.band.cut_percent,
        "cut_base": {"kind": card.cut_base_kind, "amount": money_value(card.cut_base)},
        "cut_amount": money_value(card.cut_amount),
        "penalty_amount": money_value(card.penalty_amount),
        "total_amount": money_value((card.cut_amount or Decimal(0)) + card.penalty_amount),
        "tables": [{"id": t.id, "name": t.name, "score": number(card.tables[t.id])} for t in contract.scoring.tables or []],
        "parts": parts,
        "units": [
            {
                "id": u.unit,
                "name": u.name,
                "score": number(u.score),
                "tables": {k: number(v) for k, v in u.tables.items()},
                "parts": {ps.part.id: number(ps.value) for ps in u.parts},
            }
            for u in card.units
        ] if averaging else [],
        "penalties": [
            {"rule": p.rule, "name": p.name, "amount": money_value(p.amount), "reason": p.reason,
             "evidence": p.evidence, "ref": p.ref, "at": to_iso(p.at, tz) if p.at is not None else None}
            for p in card.penalties
        ],
        "names": {"units": {u: n or u for u, n in scope.units.items()},
                  "systems": {k: v.name or k for k, v in scope.systems.items()}},
        "online_rates": _online(online, scope, tz),
        "maintenance": _maintenance(ledger, contract, period, tz),
        "devices": _devices(online, scope, contract),
        "faults": _faults(faults, summary, tz, scope),
        "vulns": _vulns(vulns, tz),
        "records": _records(ledger, period, tz, scope),
        "warnings": warnings,
    }
    return result


def _online(online: OnlineResult, scope: Scope, tz: str) -> list[dict[str, Any]]:
    groups = []
    for g in online.groups:
        groups.append({
            "group": g.id,
            "name": g.name,
            "devices": g.devices,
            "threshold": g.threshold,
            "rate": _rate(g.rate),
            "met": g.met,
            "base_met": g.base_met,
            "online_hours": _hours(g.online),
            "observed_hours": _hours(g.observed),
            "unknown_hours": _hours(g.unknown),
            "maintenance_hours": _hours(g.maintenance),
            "worst_instant": None if g.worst_at is None else {
                "at": to_iso(g.worst_at, tz),
                "rate": _rate(g.worst_online / g.worst_known),
                "online": g.worst_online,
                "observed": g.worst_known,
            },
            "minutes_below": round(g.seconds_below / 60, 2),
            "breach_episodes": len(g.episodes),
            "episodes": [
                {"start": to_iso(e.start, tz), "end": to_iso(e.end, tz), "minutes": round((e.end - e.start) / 60, 2),
                 "worst_rate": _rate(e.worst_rate), "threshold": e.threshold}
                for e in g.episodes
            ],
            "important_periods": [
                {"name": w.name, "first": w.first.isoformat(), "last": w.last.isoformat(), "threshold": w.threshold,
                 "rate": _rate(w.rate), "met": w.met}
                for w in g.windows
            ],
            "daily": [
                {"date": day.isoformat(), "rate": _rate(on / known) if known > 0 else None, "threshold": threshold}
                for day, on, known, threshold in g.daily
            ],
        })
    return groups


def _maintenance(ledger: Ledger, contract: Contract, period: Period, tz: str) -> dict[str, Any]:
    """How the contract counts planned maintenance, and the windows (``maintenance`` records) in the period."""
    windows = []
    for r in ledger.records:
        if r.kind != "maintenance":
            continue
        start, end, devices = maintenance_span(r.body)
        if end <= period.start or start >= period.end:
            continue
        windows.append({
            "name": r.body.get("name") or r.body.get("reason") or r.body.get("note"),
            "unit": r.unit,
            "system": r.system,
            "start": to_iso(start, tz),
            "end": to_iso(end, tz),
            "hours": _hours(min(end, period.end) - max(start, period.start)),
            "devices": len(devices),
            "device_ids": devices,
            "ref": r.uid,
        })
    windows.sort(key=lambda w: (w["start"], w["unit"] or "", w["ref"]))
    return {"mode": contract.online_rate.maintenance, "windows": windows}


def _devices(online: OnlineResult, scope: Scope, contract: Contract) -> list[dict[str, Any]]:
    mode = contract.online_rate.maintenance
    groups_of: dict[str, list[str]] = {}
    for group in scope.groups:
        for member in group.members:
            groups_of.setdefault(member, []).append(group.id)
    rows = []
    for device, rate in online.devices.items():
        rows.append({
            "id": device,
            "name": scope.device_names.get(device, device),
            "groups": groups_of.get(device, []),
            "rate": _rate(rate.rate(mode)),
            "up_hours": round(rate.up / 3600, 2),  # _hours, inlined: 200,000 calls
            "down_hours": round(rate.down / 3600, 2),
            "maintenance_hours": round(rate.maintenance / 3600, 2),
            "unknown_hours": round(rate.unknown / 3600, 2),
            "outages": rate.outages,
        })
    rows.sort(key=lambda r: (r["rate"] if r["rate"] is not None else 2.0, r["id"]))
    return rows


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def _faults(outcomes: list[FaultOutcome], summary: FaultSummary, tz: str, scope: Scope) -> dict[str, Any]:
    items = []
    for o in outcomes:
        if o.carried:
            continue
        f = o.fault
        # o.measure and o.overdue at o.cutoff, each time measured once (43,000 faults)
        response, response_final = o.measure("response", o.cutoff)
        resolution, resolution_final = o.measure("resolution", o.cutoff)
        items.append({
            "id": f.id,
            "level": f.level,
            "unit": o.unit,
            "system": o.system,
            "device": f.device,
            "device_name": scope.device_names.get(f.device, f.device) if f.device else None,
            "cause": f.cause,
            "opened": to_iso(f.opened, tz),
            "acknowledged": to_iso(f.acknowledged, tz) if f.acknowledged is not None else None,
            "resolved": to_iso(f.resolved, tz) if f.resolved is not None else None,
            "response_minutes": _minutes(response) if response_final else None,
            "resolution_minutes": _minutes(resolution) if resolution_final else None,
            "response_limit_minutes": _minutes(o.response_limit),
            "resolution_limit_minutes": _minutes(o.resolution_limit),
            "response_overdue": response > o.response_limit,
            "resolution_overdue": resolution > o.resolution_limit,
            "waived": f.waived if o.waived else None,
            "open": f.resolved is None,
            "recurrence_of": o.recurrence_of,
        })
    return {
        "summary": {
            "total": summary.total,
            "by_level": {str(k): v for k, v in summary.by_level.items()},
            "response_overdue": {str(k): v for k, v in summary.response_overdue.items()},
            "resolution_overdue": {str(k): v for k, v in summary.resolution_overdue.items()},
            "waived": summary.waived,
            "resolved": summary.resolved,
            "open": summary.open,
            "recurring": summary.recurring,
            "resolution_rate": _rate(summary.resolution_rate),
            "resolution_rate_target": summary.resolution_rate_target,
            "resolution_rate_met": summary.resolution_rate_met,
            "mean_response_minutes": _minutes(summary.mean_response),
            "worst_response_minutes": _minutes(summary.worst_response),
            "mean_resolution_minutes": _minutes(summary.mean_resolution),
            "worst_resolution_minutes": _minutes(summary.worst_resolution),
        },
        "items": items,
        "carried": [o.fault.id for o in outcomes if o.carried],
    }


def _vulns(outcomes: list[VulnOutcome], tz: str) -> dict[str, Any]:
    carried = [o.vuln.id for o in outcomes if o.carried]
    outcomes = [o for o in outcomes if not o.carried]
    by_severity = Counter(o.vuln.severity for o in outcomes)
    overdue = Counter(o.vuln.severity for o in outcomes if o.overdue)
    return {
        "summary": {
            "total": len(outcomes),
            "by_severity": {s: by_severity.get(s, 0) for s in ("critical", "high", "medium", "low")},
            "overdue": {s: overdue.get(s, 0) for s in ("critical", "high", "medium", "low")},
            "open": sum(1 for o in outcomes if o.open),
            "recurring": sum(1 for o in outcomes if o.recurrence_of),
        },
        "items": [
            {
                "id": o.vuln.id,
                "severity": o.vuln.severity,
                "unit": o.vuln.unit,
                "system": o.vuln.system,
                "name": o.vuln.body.get("cve") or o.vuln.body.get("name") or o.vuln.body.get("title"),
                "found": to_iso(o.vuln.found, tz),
                "fixed": to_iso(o.vuln.fixed, tz) if o.vuln.fixed is not None else None,
                "mitigated": to_iso(o.vuln.mitigated, tz) if o.vuln.mitigated is not None else None,
                "limit_hours": round(o.limit / 3600, 2),
                "hours_open": round(((o.closed_at if o.closed_at is not None else o.cutoff) - o.vuln.found) / 3600, 2),
                "overdue": o.overdue,
                "open": o.open,
                "recurrence_of": o.recurrence_of,
            }
            for o in outcomes
        ],
        "carried": carried,
    }


def _records(ledger: Ledger, period: Period, tz: str, scope: Scope) -> dict[str, Any]:
    records = [r for r in ledger.records if period.contains(r.at)]
    counts = Counter(r.kind for r in records)
    by_unit: dict[str, Counter[str]] = {}
    for r in records:
        by_unit.setdefault(r.unit or "-", Counter())[r.kind] += 1
    summary_keys = ("document", "reason", "result", "level", "points", "amount", "percent", "missing", "note")
    return {
        "counts": dict(sorted(counts.items())),
        "by_unit": {u: dict(sorted(c.items())) for u, c in sorted(by_unit.items())},
        "items": [
            {"kind": r.kind, "unit": r.unit, "system": r.system, "device": r.device,
             "device_name": scope.device_names.get(r.device, r.device) if r.device else None, "at": to_iso(r.at, tz),
             "detail": "; ".join(f"{k}={r.body[k]}" for k in summary_keys if r.body.get(k) is not None),
             "ref": r.uid}
            for r in records
        ],
    }
