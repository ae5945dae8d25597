"""Ledger JSON Lines in and out: validate a file, import it into the store, export the store, and
load one period's ledger for the calculator (from the store or straight from a file).

- ``state`` lines are rows of the ``transitions`` table (the previous state is derived);
- ``agent`` lines are ``agent_runs`` (a ``running`` line and the next ``stopped`` line of the
  same agent are one run; ``"last_heartbeat": true`` marks a run that had not stopped yet);
- ``fault``, ``vuln`` and ``record`` lines are ``ledger`` rows whose body is the line itself
  (without ``agent``, which is a column).

Import checks every line before it writes anything and writes in one transaction. It is
idempotent: a state line already present (same device, time and state), a run already present
(same agent and start) and a ledger event with the same uid and body add nothing. Export is
sorted and canonical, so export → import → export gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from compliance.events import (
    AgentEvent,
    EventError,
    Fault,
    LedgerEvent,
    ParsedLine,
    Record,
    StateEvent,
    Vuln,
    canonical_json,
    canonical_line,
    derived_uid,
    parse_event,
)
from compliance.ledger import Ledger, build_ledger, merge_intervals, set_runs
from core.errors import InputError, InputProblem
from core.timefmt import DEFAULT_TZ, parse_iso, to_iso
from store.db import Store
from store.ledger import EventRow, EventRows, LedgerStore, RunRow, StateRows, TransitionRow

MAX_PROBLEMS = 50
_END = 1e18


@dataclass
class Run:
    """One period the agent ran, from a running line to its stopped line."""

    agent: str
    started: float
    ended: float
    last_heartbeat: bool
    line: int


@dataclass
class ParsedLedger:
    """A JSON-Lines file that passed validation."""

    file: str
    lines: list[ParsedLine] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)

    def events(self) -> Iterator[LedgerEvent]:
        return (p.event for p in self.lines)


@dataclass
class ImportSummary:
    added: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, what: str) -> None:
        table = getattr(self, what)
        table[kind] = table.get(kind, 0) + 1

    def __str__(self) -> str:
        kinds = sorted(set(self.added) | set(self.unchanged) | set(self.updated))
        parts = [
            f"{k}: {self.added.get(k, 0)} added, {self.updated.get(k, 0)} updated, {self.unchanged.get(k, 0)} unchanged"
            for k in kinds
        ]
        return "; ".join(parts) or "nothing to import"


# -- reading a file -------------------------------------------------------------------------


def _parse_line(number: int, raw: str, file: str, default_agent: str,
                keep_body: bool) -> ParsedLine | InputProblem | None:
    """One line: its event (and body, for import), a problem, or None for a blank or comment line."""
    text = raw.strip()
    if not text or text.startswith("#"):
        return None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return InputProblem(file, f"not valid JSON: {exc.msg} (column {exc.colno})", number)
    except RecursionError:  # [[[[... a hundred thousand deep: no ledger event nests like that
        return InputProblem(file, "not a ledger event: JSON nested too deeply", number)
    try:
        event = parse_event(obj, default_agent)
    except EventError as exc:
        return InputProblem(file, exc.message, number, exc.field)
    body = {k: v for k, v in obj.items() if k not in ("agent", "uid")} if keep_body else {}
    return ParsedLine(number, event, body)


def parse_lines(lines: Iterable[str], file: str, default_agent: str = "") -> ParsedLedger:
    """Validate every line; raises InputError listing each bad line (file:line: field: message)."""
    parsed = ParsedLedger(file=file)
    problems: list[InputProblem] = []
    extra = 0
    for number, raw in enumerate(lines, start=1):
        line = _parse_line(number, raw, file, default_agent, keep_body=True)
        if line is None:
            continue
        if isinstance(line, ParsedLine):
            parsed.lines.append(line)
        elif len(problems) < MAX_PROBLEMS:
            problems.append(line)
        else:
            extra += 1
    if not problems:
        parsed.runs = _pair_runs(parsed.lines, file, problems)
    if extra:
        problems.append(InputProblem(file, f"... and {extra} more bad lines"))
    if problems:
        raise InputError(problems)
    return parsed


def read_ledger_file(path: str | Path, default_agent: str = "") -> ParsedLedger:
    """Read and validate a JSON-Lines ledger file."""
    with _ledger_file(path) as handle:
        return parse_lines(handle, str(path), default_agent)


@contextmanager
def _ledger_file(path: str | Path) -> Iterator[TextIO]:
    """The file's lines; a missing, binary or directory path is one clear input error."""
    file = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            yield handle
    except FileNotFoundError:
        raise InputError.single(file, "file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError.single(file, f"not UTF-8 text: {exc.reason}") from None
    except IsADirectoryError:
        raise InputError.single(file, "is a directory, not a JSON-Lines file") from None


def _pair_runs(lines: list[ParsedLine], file: str, problems: list[InputProblem]) -> list[Run]:
    by_agent: dict[str, list[tuple[float, int, AgentEvent]]] = {}
    for parsed in lines:
        if isinstance(parsed.event, AgentEvent):
            by_agent.setdefault(parsed.event.agent, []).append((parsed.event.at, parsed.line, parsed.event))
    runs: list[Run] = []
    for agent, items in by_agent.items():
        items.sort(key=lambda item: (item[0], item[1]))
        open_run: tuple[float, int] | None = None
        for at, line, event in items:
            if event.state == "running":
                if open_run is not None:
                    problems.append(InputProblem(
                        file, f"agent {agent or '(unnamed)'} is running again without a stopped line for the run of"
                        f" line {open_run[1]}", line, "state"))
                    return runs
                open_run = (at, line)
            else:
                if open_run is None:
                    problems.append(InputProblem(
                        file, f"agent {agent or '(unnamed)'} stopped without a running line before it", line, "state"))
                    return runs
                runs.append(Run(agent, open_run[0], at, event.last_heartbeat, open_run[1]))
                open_run = None
        if open_run is not None:
            problems.append(InputProblem(
                file, f"agent {agent or '(unnamed)'} run never ends: add a stopped line (or one with"
                ' "last_heartbeat": true for a run still going)', open_run[1], "state"))
    return runs


def ledger_from_file(path: str | Path, default_agent: str = "") -> Ledger:
    """The calculator's Ledger straight from a JSON-Lines file (no store). Each line goes into the
    ledger as it is read (no line objects kept but the agents' run lines), so a 50,000-device month
    does not hold every line twice; a bad line still fails the whole file, listing each."""
    file = str(path)
    problems: list[InputProblem] = []
    agent_lines: list[ParsedLine] = []
    extra = 0

    def events(handle: Iterable[str]) -> Iterator[LedgerEvent]:
        nonlocal extra
        for number, raw in enumerate(handle, start=1):
            line = _parse_line(number, raw, file, default_agent, keep_body=False)
            if line is None:
                continue
            if isinstance(line, InputProblem):
                if len(problems) < MAX_PROBLEMS:
                    problems.append(line)
                else:
                    extra += 1
                continue
            if isinstance(line.event, AgentEvent):
                agent_lines.append(line)
            yield line.event

    with _ledger_file(path) as handle:
        ledger = build_ledger(events(handle), [], source=file)
    if not problems:
        runs = _pair_runs(agent_lines, file, problems)
        set_runs(ledger, [(r.agent, r.started, r.ended) for r in runs])
    if extra:
        problems.append(InputProblem(file, f"... and {extra} more bad lines"))
    if problems:
        raise InputError(problems)
    return ledger


# -- import ---------------------------------------------------------------------------------


def import_ledger(store: Store, parsed: ParsedLedger) -> ImportSummary:
    """Write a validated file into the store in one transaction; returns what changed."""
    states = [
        TransitionRow(p.event.device, p.event.at, p.event.state, p.event.cause, p.event.agent)
        for p in parsed.lines if isinstance(p.event, StateEvent)
    ]
    runs = [RunRow(r.agent, r.started, r.ended, None if r.last_heartbeat else r.ended) for r in parsed.runs]
    events: list[EventRow] = []
    for item in parsed.lines:
        event = item.event
        if not isinstance(event, Fault | Vuln | Record):
            continue
        at = event.opened if isinstance(event, Fault) else event.found if isinstance(event, Vuln) else event.at
        events.append(EventRow(event.uid, item.body["type"], at, event.agent, canonical_json(item.body)))
    changes = LedgerStore(store).import_rows(states, runs, events)
    summary = ImportSummary()
    if changes.states_added:
        summary.added["state"] = changes.states_added
    if changes.states_unchanged:
        summary.unchanged["state"] = changes.states_unchanged
    for change in changes.runs:
        summary.count("agent", change)
    for row, change in zip(events, changes.events, strict=True):
        summary.count(row.type, change)
    return summary


# -- export ---------------------------------------------------------------------------------

_RANK = {"agent": 0, "state": 1, "fault": 2, "vuln": 3, "record": 4}


def export_ledger(store: Store, start: float = 0.0, end: float = _END, tz: str = DEFAULT_TZ) -> list[str]:
    """Canonical JSON lines of everything in ``[start, end)``, sorted by time.

    With a start, the state each device was in at ``start`` (its last earlier transition) is
    included, and faults/vulnerabilities opened earlier but still open at ``start``: an export
    of one month is enough to compute that month.
    """
    items: list[tuple[float, int, str, int, str]] = []
    rows = LedgerStore(store).export_rows(start, end)
    for device, at, state, cause, agent, row_id in rows.transitions:
        obj: dict[str, Any] = {"type": "state", "device": device, "at": to_iso(at, tz), "state": state}
        if cause:
            obj["cause"] = cause
        items.append((at, 1, device, row_id, canonical_line(obj, agent)))
    for agent, started, last_seen, stopped in rows.runs:
        items.append((started, 0, agent, 0, canonical_line({"type": "agent", "at": to_iso(started, tz), "state": "running"}, agent)))
        stop: dict[str, Any] = {"type": "agent", "at": to_iso(stopped if stopped is not None else last_seen, tz),
                                "state": "stopped"}
        if stopped is None:
            stop["last_heartbeat"] = True
        items.append((stopped if stopped is not None else last_seen, 0, agent, 1, canonical_line(stop, agent)))
    for uid, type_, at, agent, text in rows.events:
        body = json.loads(text)
        if at < start and not _still_open(type_, body, start):
            continue
        if uid != derived_uid(type_, body):
            body["uid"] = uid  # written by a component with its own uid scheme: keep it
        items.append((at, _RANK.get(type_, 5), uid, 0, canonical_line(body, agent)))
    items.sort(key=lambda item: item[:4])
    return [item[4] for item in items]


def _still_open(type_: str, body: dict[str, Any], start: float) -> bool:
    """A fault or vulnerability from before ``start`` that was not closed before it."""

    keys = {"fault": ("resolved",), "vuln": ("fixed", "mitigated")}.get(type_)
    if keys is None:
        return False
    closed = [body.get(k) for k in keys if body.get(k)]
    if not closed:
        return True
    try:
        return min(parse_iso(c) for c in closed) >= start
    except ValueError:
        return True


# -- loading a period from the store ----------------------------------------------------------


def load_ledger(
    store: Store,
    start: float,
    end: float,
    lookback: float = 400 * 86400.0,
    progress: Callable[[str], None] | None = None,
) -> Ledger:
    """The calculator's Ledger for ``[start, end)``: each device's state at ``start`` and its
    transitions until ``end``, every agent run, and faults, vulnerabilities and records from
    ``lookback`` seconds before ``start`` (recurrences, consecutive months, yearly documents)."""
    say = progress or (lambda _m: None)
    ledger = Ledger(source=str(store.path))
    agents: dict[str, set[str]] = {}
    changes = events = 0

    def take_states(rows: StateRows) -> None:
        nonlocal changes
        for device, at, state, agent in rows:
            ledger.states.setdefault(device, []).append((at, state))
            known = agents.get(device)
            if known is None:
                agents[device] = {agent}
            elif agent not in known:
                known.add(agent)
            changes += 1

    def take_events(rows: EventRows) -> None:
        nonlocal events
        for uid, _type, _at, agent, text in rows:
            events += 1
            try:
                event = parse_event({**json.loads(text), "uid": uid}, agent)
            except (EventError, json.JSONDecodeError) as exc:
                field_name = getattr(exc, "field", "")
                ledger.warnings.append(f"ledger event {uid} skipped: {field_name}: {exc}")
                continue
            if isinstance(event, Fault | Vuln | Record):
                ledger.add(event)

    runs = LedgerStore(store).read_period(start, end, start - lookback, take_states, take_events)
    say(f"ledger: {changes} state changes, {len(runs)} agent runs, {events} events")
    interned: dict[frozenset[str], frozenset[str]] = {}
    for device, values in agents.items():
        key = frozenset(values)
        ledger.device_agents[device] = interned.setdefault(key, key)
    by_agent: dict[str, list[tuple[float, float]]] = {}
    for agent, started, ended in runs:
        by_agent.setdefault(agent, []).append((started, ended))
    ledger.runs = {agent: merge_intervals(v) for agent, v in by_agent.items()}
    return ledger
