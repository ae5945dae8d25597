"""The console's one window on the fleet: every figure and every action goes through here.

Reads call the functions the CLI uses (the fleet state's states_now and group_rates over the
store's states and the maintenance calendar, agent.status's device_rows, alerting's FaultStore,
compliance.report.generate); actions call alerting.lifecycle and agent.windows, so they land in
the ledger exactly as the CLI's do.
The console defines no figure of its own. A snapshot of the fleet is cached until the next
round (or for a few seconds without an agent), so a page at 10,000 devices costs no re-read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from agent import windows
from agent.fleet import GroupRate, group_rates, states_now
from agent.status import DeviceRow, device_rows
from alerting import lifecycle
from alerting.levels import LevelPolicy
from alerting.messages import Composer
from compliance.records import event_from_fields, record_body, store_event
from compliance.report import generate
from core.errors import InputError
from core.model import Sample, State
from inventory.config import Inventory
from store.db import Store
from store.faults import Fault, FaultStore
from store.outbox import OutboxStore
from store.rollup import BUCKET

log = logging.getLogger("yunwei.web")

SNAPSHOT_SECONDS = 30.0  # rounds and the console's own actions invalidate it sooner
SCORE_SECONDS = 300.0


@dataclass
class Snapshot:
    """The fleet as of one moment: states, group rates, who is in a maintenance window.

    Cheap enough to take after every round while pages watch (no latest samples: the device
    list's RTT and last-error columns come from ``FleetData.rows``, taken only when asked for)."""

    at: float
    generation: int
    states: dict[str, tuple[State, float]]
    rates: list[GroupRate]
    in_maintenance: dict[str, str]  # device -> window name
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0

    def state(self, device: str) -> tuple[State, float | None]:
        return self.states.get(device, (State.UNKNOWN, None))

    def shown_state(self, device: str) -> str:
        """The state as every face shows it (``agent.fleet.states_now``: MAINTENANCE inside a window)."""
        return str(self.state(device)[0])


def urgency(fault: Fault) -> tuple[float, int]:
    """The next deadline the fault still has to meet (respond, then resolve), then its level."""
    deadline = fault.respond_by if fault.acknowledged is None else fault.resolve_by
    return deadline, fault.level


class FleetData:
    def __init__(self, store: Store, inventory: Inventory) -> None:
        self.store = windows.prepare(store)
        # inside the agent: the fleet state's newest samples, in memory (``WebComponent`` sets it);
        # else (tests, a console beside no agent) the store's
        self.latest: Callable[[], list[Sample]] = store.latest_samples
        self.inventory = inventory
        self.generation = 0
        self._snapshot: Snapshot | None = None
        self._rows: tuple[int, float, list[DeviceRow]] | None = None
        self._snapshot_lock = threading.Lock()
        self._rows_lock = threading.Lock()
        self._scores: dict[str, tuple[float, dict | None, str | None]] = {}  # type: ignore[type-arg]
        self._score_running: set[str] = set()
        self.reload(inventory)

    def reload(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.faults = FaultStore(self.store, inventory.agent.id, inventory.agent.timezone)
        self.outbox = OutboxStore(self.store)
        self.policy = LevelPolicy(inventory.config.alerting, inventory)
        self.composer = Composer(inventory, self.policy)
        self.zone = ZoneInfo(inventory.agent.timezone)
        self.invalidate()

    def invalidate(self) -> None:
        """A round finished or an action changed something: the next read takes a new snapshot."""
        self.generation += 1

    # -- the fleet ----------------------------------------------------------------------

    def snapshot(self, now: float | None = None) -> Snapshot:
        now = time.time() if now is None else now
        with self._snapshot_lock:
            current = self._snapshot
            if current is not None and current.generation == self.generation and now - current.at < SNAPSHOT_SECONDS:
                return current
            generation = self.generation
            occurrences = windows.calendar(self.store, self.inventory, now).covering(now)
            states = states_now(self.store.current_states(), occurrences)
            today = datetime.fromtimestamp(now, self.zone).date()
            rates = group_rates(self.inventory, states, today)
            covering = {device: occurrence.name for device, occurrence in occurrences.items()}
            counts = {str(state): 0 for state in State}
            for device in self.inventory.devices:
                counts[str(states.get(device, (State.UNKNOWN, 0.0))[0])] += 1
            self._snapshot = Snapshot(now, generation, states, rates, covering, counts, len(self.inventory.devices))
            return self._snapshot

    def rows(self, now: float | None = None) -> list[DeviceRow]:
        """``agent.status.device_rows`` (state, since, RTT, last error of every device), cached like the snapshot."""
        now = time.time() if now is None else now
        with self._rows_lock:
            cached = self._rows
            if cached is not None and cached[0] == self.generation and now - cached[1] < SNAPSHOT_SECONDS:
                return cached[2]
            generation = self.generation
            rows = device_rows(self.inventory, self.snapshot(now).states, self.latest(), self.store.probe_states())
            self._rows = (generation, now, rows)
            return rows

    def samples(self, device: str, since: float) -> list[Sample]:
        return self.store.samples_for(device, since)

    def series(self, device: str, metric: str, start: float, end: float, points: int = 360) -> tuple[list[tuple[float, float]], list[float]]:
        """A chart's (time, value) points of ``metric`` and the times a probe failed: raw samples
        for a day or less, else the store's rollups in buckets of 5 minutes or more, each the
        metric's mean (a month reads 360 two-hour buckets instead of 43,200 samples, and still
        draws after the raw samples are pruned)."""
        if end - start <= 86400:
            samples = self.store.samples_for(device, start)
            return [(s.ts, s.metrics[metric]) for s in samples if metric in s.metrics], [s.ts for s in samples if not s.ok]
        step = max(BUCKET, math.ceil((end - start) / points / BUCKET) * BUCKET)
        buckets = self.store.samples.rollups(device, None, start, end, step)
        values = [(b.start + step / 2, value) for b in buckets if (value := b.value(metric)) is not None]
        return values, [b.start + step / 2 for b in buckets if b.up < b.samples]

    def transitions(self, device: str, since: float):  # type: ignore[no-untyped-def]
        return self.store.transitions(since, device=device)

    # -- faults -------------------------------------------------------------------------

    def active_faults(self) -> list[Fault]:
        return sorted(self.faults.active(), key=urgency)

    def recent_faults(self, days: float = 7.0, limit: int = 200) -> list[Fault]:
        return self.faults.listing(["resolved", "closed"], since=time.time() - days * 86400, limit=limit)

    def device_faults(self, device: str, limit: int = 50) -> list[Fault]:
        return [f for f in self.faults.listing(None, since=0, limit=5000) if f.device == device][:limit]

    def fault(self, ref: str) -> Fault | None:
        return self.faults.get(ref)

    def fault_history(self, fault_id: str) -> list[tuple[float, str, str, dict]]:  # type: ignore[type-arg]
        return self.faults.history(fault_id)

    def fault_messages(self, fault_id: str) -> list[tuple[str, str, str, float]]:
        """(channel, kind, state, created) of the chat messages queued for a fault."""
        return self.outbox.for_fault(fault_id)

    # -- the month's score ----------------------------------------------------------------

    def month_scores(self, now: float | None = None) -> list[tuple[str, dict | None, str | None]]:  # type: ignore[type-arg]
        """(contract, report result or None, error) for every configured contract, this month so far.

        Computed by compliance.report.generate (the same as ``yunwei report``); cached for
        five minutes and refreshed in the background, so a page never waits for it twice."""
        now = time.time() if now is None else now
        found = []
        for ref in self.inventory.config.contracts:
            name = ref.id or (ref.contract.id if ref.contract else None) or ref.file or "?"
            cached = self._scores.get(name)
            if cached is None:
                self._compute_score(name, now)
                cached = self._scores.get(name)
            elif now - cached[0] > SCORE_SECONDS and name not in self._score_running:
                self._score_running.add(name)
                threading.Thread(target=self._compute_score, args=(name, now), daemon=True).start()
            if cached is not None:
                found.append((name, cached[1], cached[2]))
        return found

    def _compute_score(self, name: str, now: float) -> None:
        period = datetime.fromtimestamp(now, self.zone).strftime("%Y-%m")
        try:
            data, _ = generate(name, period, "json", self.inventory, language=self.inventory.agent.language)
            self._scores[name] = (now, json.loads(data), None)
        except InputError as exc:
            self._scores[name] = (now, None, "; ".join(str(p) for p in exc.problems))
        except Exception as exc:  # a report bug must not take the overview down
            log.exception("month score of %s failed", name)
            self._scores[name] = (now, None, f"{type(exc).__name__}: {exc}")
        finally:
            self._score_running.discard(name)

    # -- actions (the CLI's own functions) ----------------------------------------------------

    def acknowledge(self, ref: str, by: str, note: str | None = None) -> Fault:
        return self._changed(lifecycle.acknowledge(self.faults, ref, by, time.time(), note or None))

    def resolve(self, ref: str, by: str, note: str | None = None) -> Fault:
        return self._changed(lifecycle.resolve(self.faults, ref, by, time.time(), note or None))

    def add_note(self, ref: str, text: str, by: str, close: bool = False) -> Fault:
        return self._changed(lifecycle.add_note(self.faults, ref, text, by, time.time(), close=close))

    def open_work_order(self, level: int, cause: str, by: str, **scope: str | None) -> Fault:
        return self._changed(lifecycle.open_manual(self.faults, self.inventory, level, cause, by, time.time(), **scope))

    def bulk_acknowledge(self, refs: list[str], by: str) -> tuple[list[Fault], list[str]]:
        """(acknowledged, one problem line per fault that could not be)."""
        done, problems = [], []
        for ref in refs:
            try:
                done.append(lifecycle.acknowledge(self.faults, ref, by, time.time()))
            except InputError as exc:
                problems.extend(p.message for p in exc.problems)
        self.invalidate()
        return done, problems

    def maintenance_windows(self, now: float | None = None) -> list[windows.StoredWindow]:
        now = time.time() if now is None else now
        return windows.stored_windows(self.store, since=now - 7 * 86400)

    def add_maintenance(self, name: str, start: float, end: float, by: str, **targets: list[str]) -> windows.StoredWindow:
        for key, known in (("devices", self.inventory.devices), ("groups", self.inventory.groups),
                           ("systems", self.inventory.systems), ("units", self.inventory.units)):
            unknown = [v for v in targets.get(key, []) if v not in known]
            if unknown:
                raise InputError.single("maintenance window", f"unknown {key[:-1]} {', '.join(unknown)}")
        window = windows.add_window(self.store, name, start, end, self.inventory.agent.timezone, by, **targets)
        self.invalidate()
        return window

    def end_maintenance(self, window_id: int, by: str) -> None:
        windows.end_window(self.store, window_id, by)
        self.invalidate()

    # -- records and reports (compliance's own functions, as ``yunwei record`` and ``yunwei report``) --------

    def contract_names(self) -> list[str]:
        return [ref.id or (ref.contract.id if ref.contract else None) or ref.file or "?" for ref in self.inventory.config.contracts]

    def recent_records(self, days: float = 31.0, limit: int = 200) -> list[tuple[str, float, dict]]:  # type: ignore[type-arg]
        found = [(uid, at, body) for uid, _, at, _, body in self.store.events(["record"], start=time.time() - days * 86400)]
        return list(reversed(found))[:limit]

    def add_record(self, kind: str, unit: str, by: str, system: str | None = None, device: str | None = None,
                   fields: dict | None = None, at: float | None = None) -> tuple[str, bool]:  # type: ignore[type-arg]
        """(uid, changed): the record as ``yunwei record KIND`` files it, with who filed it."""
        for value, known, what in ((unit, self.inventory.units, "unit"), (system, self.inventory.systems, "system"),
                                   (device, self.inventory.devices, "device")):
            if value and value not in known:
                raise InputError.single("record", f"unknown {what} {value!r}")
        when = float(int(time.time() if at is None else at))
        body = record_body(kind, unit, when, self.inventory.agent.timezone, system or None, device or None,
                           {**(fields or {}), "by": by})
        event = event_from_fields(body, self.inventory.agent.id, where="record")
        return event.uid, store_event(self.store, event, body)

    def keep_evidence(self, name: str, data: bytes) -> tuple[str, str]:
        """(path, sha256) of an uploaded file, kept under the data directory by its hash."""
        digest = hashlib.sha256(data).hexdigest()
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name)[-80:] or "evidence"
        folder = self.inventory.data_dir / "evidence" / "web" / digest
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / safe
        if not target.exists():
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(target)
        return str(target), digest

    def evidence_file(self, digest: str) -> Path | None:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            return None
        folder = self.inventory.data_dir / "evidence" / "web" / digest
        files = sorted(p for p in folder.glob("*") if p.is_file() and not p.name.endswith(".part")) if folder.is_dir() else []
        return files[0] if files else None

    def report(self, contract: str, period: str, fmt: str) -> tuple[bytes, str]:
        """The report's bytes and summary, exactly as ``yunwei report`` makes them."""
        return generate(contract, period, fmt, self.inventory, language=self.inventory.agent.language)

    def _changed(self, fault: Fault) -> Fault:
        self.invalidate()
        return fault
