"""The agent's own health: how long ago each round group last finished, and whether it is overdue.

A pure function of the agent's round statistics and a clock, so it is tested without waiting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol


class _Stats(Protocol):
    rounds: int
    skipped: int
    last_finished: float | None
    last_duration: float | None


class _Plan(Protocol):  # collectors.concurrency.RoundPlan
    concurrency: int
    fits: bool
    why: str | None


@dataclass
class RoundHealth:
    collector: str
    interval: float
    rounds: int
    skipped: int
    last_finished: float | None
    last_duration: float | None
    age_seconds: float
    overdue: bool
    concurrency: int | None = None  # probes at once in the last round (per-target collectors)
    fits: bool | None = None  # whether a worst-case round fits the interval
    why: str | None = None  # when it does not: what limits it


def round_health(
    groups: Iterable[tuple[str, float]],
    stats: Mapping[tuple[str, float], _Stats],
    started: float,
    now: float,
    overdue_factor: float = 3.0,
    plans: Mapping[tuple[str, float], _Plan] | None = None,
) -> list[RoundHealth]:
    """One entry per (collector, interval) round group. A group that has not finished a round
    yet is aged from the agent's start; overdue means older than ``overdue_factor`` intervals.
    ``plans``: each group's last concurrency plan (``Collector.plans``), when known."""
    report = []
    for collector, interval in sorted(groups):
        entry = stats.get((collector, interval))
        last = entry.last_finished if entry is not None else None
        age = max(0.0, now - (last if last is not None else started))
        plan = (plans or {}).get((collector, interval))
        report.append(
            RoundHealth(
                collector=collector,
                interval=interval,
                rounds=entry.rounds if entry is not None else 0,
                skipped=entry.skipped if entry is not None else 0,
                last_finished=last,
                last_duration=entry.last_duration if entry is not None else None,
                age_seconds=round(age, 3),
                overdue=age > overdue_factor * interval,
                concurrency=plan.concurrency if plan is not None else None,
                fits=plan.fits if plan is not None else None,
                why=plan.why if plan is not None else None,
            )
        )
    return report


def health_document(
    agent_id: str, rounds: list[RoundHealth], exporters: Mapping[str, Mapping[str, Any]], now: float
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of ``/healthz``: 503 when any round group is overdue.
    ``cannot_fit`` names the groups whose worst-case round is longer than their interval, and why."""
    overdue = [f"{r.collector}/{r.interval:g}s" for r in rounds if r.overdue]
    cannot_fit = {f"{r.collector}/{r.interval:g}s": r.why for r in rounds if r.fits is False}
    body = {
        "agent": agent_id,
        "status": "overdue" if overdue else "ok",
        "overdue": overdue,
        "cannot_fit": cannot_fit,
        "now": now,
        "rounds": [asdict(r) for r in rounds],
        "exporters": dict(exporters),
    }
    return (503 if overdue else 200), body
