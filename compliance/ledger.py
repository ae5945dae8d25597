"""The ledger in memory: what the calculator reads, whether it came from the store or a file.

State intervals per device (sorted), the agents' run periods (time outside them is unknown),
faults, vulnerabilities and records. Pure data; loading lives in ``compliance.ledgerio``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from compliance.events import AgentEvent, Fault, LedgerEvent, Record, StateEvent, Vuln, maintenance_span

Interval = tuple[float, float]


@dataclass
class Ledger:
    """Everything the calculator needs for one contract and period."""

    states: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    device_agents: dict[str, frozenset[str]] = field(default_factory=dict)
    runs: dict[str, list[Interval]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    vulns: list[Vuln] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    # planned maintenance per device (from ``maintenance`` records): counted apart from up and down
    maintenance: dict[str, list[Interval]] = field(default_factory=dict)
    source: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def has_runs(self) -> bool:
        return any(self.runs.values())

    def coverage(self, device: str) -> list[Interval] | None:
        """When the agent(s) watching ``device`` ran; None when the ledger holds no run records at all
        (nothing is known about the agent, so the state intervals are taken as they are)."""
        if not self.has_runs:
            return None
        agents = self.device_agents.get(device, frozenset())
        named = [a for a in agents if a]
        if not named:
            return merge_intervals(i for runs in self.runs.values() for i in runs)
        if len(named) == 1:
            return self.runs.get(named[0], [])
        return merge_intervals(i for a in named for i in self.runs.get(a, []))

    def add(self, event: Fault | Vuln | Record) -> None:
        """A fault, vulnerability or record; a ``maintenance`` record also marks its devices' window."""
        if isinstance(event, Fault):
            self.faults.append(event)
        elif isinstance(event, Vuln):
            self.vulns.append(event)
        else:
            self.records.append(event)
            if event.kind == "maintenance":
                start, end, devices = maintenance_span(event.body)
                for device in devices:
                    self.maintenance.setdefault(device, []).append((start, end))

    def is_empty(self) -> bool:
        return not (self.states or self.has_runs or self.faults or self.vulns or self.records)


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of ``(start, end)`` intervals."""
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def set_runs(ledger: Ledger, runs: Iterable[tuple[str, float, float]]) -> None:
    """The agents' run periods, ``(agent, start, end)``, merged per agent."""
    by_agent: dict[str, list[Interval]] = {}
    for agent, start, end in runs:
        by_agent.setdefault(agent, []).append((start, end))
    ledger.runs = {agent: merge_intervals(intervals) for agent, intervals in by_agent.items()}


def build_ledger(events: Iterable[LedgerEvent], runs: Iterable[tuple[str, float, float]] = (), source: str = "") -> Ledger:
    """A Ledger from typed events; agent runs are given as ``(agent, start, end)``."""
    ledger = Ledger(source=source)
    agents: dict[str, set[str]] = {}
    for event in events:
        if isinstance(event, StateEvent):
            ledger.states.setdefault(event.device, []).append((event.at, event.state))
            agents.setdefault(event.device, set()).add(event.agent)
        elif isinstance(event, Fault | Vuln | Record):
            ledger.add(event)
        elif isinstance(event, AgentEvent):  # pairs are turned into runs by the caller
            continue
    for device, transitions in ledger.states.items():
        transitions.sort(key=lambda item: item[0])
        ledger.device_agents[device] = frozenset(agents.get(device, ()))
    set_runs(ledger, runs)
    ledger.faults.sort(key=lambda f: (f.opened, f.id))
    ledger.vulns.sort(key=lambda v: (v.found, v.id))
    ledger.records.sort(key=lambda r: (r.at, r.uid))
    return ledger
