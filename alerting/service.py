"""Alerting as one synchronous service: engine + dispatcher + outbox + periodic posts.

The daemon's component (alerting.component) calls it from the agent's writer thread and
runs the outbox in worker threads; tests call it directly with an injected clock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from alerting.dispatch import Dispatcher
from alerting.engine import FaultEngine
from alerting.outbox import Outbox
from alerting.startup import StartupFold
from alerting.summary import daily_summary, summary_due
from core.events import Event
from core.model import Sample, Transition
from inventory.config import Inventory
from store.db import Store
from store.faults import Notice

log = logging.getLogger("yunwei.alerting")

MEETING_LOOKBACK = 2 * 86400


class AlertingService:
    def __init__(
        self, store: Store, inventory: Inventory, clock: Callable[[], float] = time.time, fold_startup: bool = False
    ) -> None:
        """``fold_startup``: faults found at start are told in one message (alerting.startup; the daemon's way)."""
        self.store = store
        self.clock = clock
        self.engine = FaultEngine(store, inventory, clock)
        if fold_startup:
            self.engine.startup = StartupFold(started=clock())
        self.faults = self.engine.faults
        self.dispatcher = Dispatcher(self.faults, inventory, states=self.engine.shown_states, clock=clock)
        self.outbox = Outbox(store, self.dispatcher.notifiers, inventory.config.alerting.outbox, clock)
        self.inventory = inventory
        self.started = clock()
        self._last_prune = 0.0

    @property
    def config(self):  # type: ignore[no-untyped-def]
        return self.inventory.config.alerting

    def reload(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.engine.reload(inventory)
        self.dispatcher.reload(inventory)
        self.outbox.notifiers = self.dispatcher.notifiers
        self.outbox.settings = inventory.config.alerting.outbox

    def on_round(
        self,
        samples: Iterable[Sample],
        transitions: Iterable[Transition],
        now: float | None = None,
        degraded: Mapping[str, tuple[str, ...]] | None = None,
        first_round_done: bool | None = None,
    ) -> int:
        """A round's results in (and the fleet's degraded devices, whether the agent's first round
        is over); returns the number of messages queued."""
        now = self.clock() if now is None else now
        self.engine.on_round(samples, transitions, now, degraded, first_round_done)
        return self.dispatcher.flush(now)

    def on_event(self, event: Event, now: float | None = None) -> tuple[str, int]:
        """A trap or syslog event in; returns (what it did to faults, messages queued)."""
        now = self.clock() if now is None else now
        outcome = self.engine.on_event(event, now)
        return outcome, self.dispatcher.flush(now)

    def tick(self, now: float | None = None) -> int:
        """Deadlines, windows, holds, meeting checks, the daily summary; then flush the queue."""
        now = self.clock() if now is None else now
        self.engine.tick(now)
        if self.config.meeting_checks:
            self.meetings(now)
        self.summary(now)
        queued = self.dispatcher.flush(now)
        if now - self._last_prune > 3600:
            self._last_prune = now
            self.outbox.prune()
        return queued

    def meetings(self, now: float) -> None:
        """Queue a post for every new or changed ``meeting_check`` record in the ledger."""
        since = max(now - MEETING_LOOKBACK, self.started - 86400)
        notices = []
        marks: list[tuple[str, str]] = []
        for uid, _, _, _, body in self.store.events(["record"], start=since):
            if body.get("kind") != "meeting_check":
                continue
            digest = hashlib.sha1(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
            mark = f"meeting:{uid}"
            if self.faults.kv_get(mark) == digest:
                continue
            marks.append((mark, digest))
            notices.append(Notice("meeting", None, "", None, {"uid": uid, "record": body, "unit": body.get("unit"), "system": body.get("system")}))
        if notices:
            self.faults.add_notices(notices, now)
            for mark, digest in marks:
                self.faults.kv_set(mark, digest)

    def summary(self, now: float) -> None:
        settings = self.config.daily_summary
        day = summary_due(settings.at, now, self.inventory.agent.timezone, self.faults.kv_get("summary:last_day"))
        if day is None:
            return
        text = daily_summary(self.dispatcher.composer, self.faults.active(), self.engine.shown_states(now), now)
        self.faults.add_notices([Notice("summary", None, "", None, {"title": text.title, "lines": text.lines, "day": day})], now)
        self.faults.kv_set("summary:last_day", day)
        log.info("daily summary for %s queued", day)
