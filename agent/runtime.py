"""The running agent: collectors grouped into rounds, a debounced tracker, the store, and the
components other packages attach (alerting, exporters, scheduled checks).

One scheduler: the agent's ``AsyncIOScheduler`` (APScheduler) runs every timed job in the event
loop: the rounds, the housekeeping, and the jobs components register through ``add_job`` (the
scheduled inspections, the meeting-readiness checks). No job overlaps itself
(``max_instances=1``) and missed runs are coalesced into one.

Rounds: one job per (collector, interval). A round still running when the next is due makes
the scheduler skip that run (coalesced, not stacked, and counted in ``stats``). First runs are
spread over the interval and each run gets jitter so that thousands of devices are not probed
in one burst.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from agent import windows
from agent.builtin import FactsRecorder, UpsMemory
from agent.first_round import FirstRound, expected_devices, first_round_bound
from agent.fleet import FleetState, maintenance_records
from agent.inspections import InspectionScheduler
from agent.meetings import MeetingScheduler
from agent.metriccheck import UndeclaredMetrics
from agent.retries import Retries
from agent.transitions import StatusTracker
from collectors import registry
from collectors.base import Collector, CollectorContext, Target
from collectors.concurrency import raise_open_files_limit
from core.model import Sample, Transition
from core.timefmt import to_iso_seconds
from inventory.config import Inventory
from store.db import Store, open_store

log = logging.getLogger("yunwei.agent")

# Every round group runs first within this many seconds of the start (spread, not all at once).
FIRST_RUN_SPREAD = 5.0
HOUSEKEEPING_SECONDS = 600.0  # the prune of raw samples older than retention_days
T = TypeVar("T")

# What other packages attach to a running agent: each plugin (inventory.plugins) registers a
# factory ``attach(agent) -> list[Component]``; the agent does not know them by name.
COMPONENT_FACTORIES: list[Callable[[Agent], list[Component]]] = []


def register_component(factory: Callable[[Agent], list[Component]]) -> None:
    if factory not in COMPONENT_FACTORIES:
        COMPONENT_FACTORIES.append(factory)


@dataclass
class RoundResult:
    """What one round produced, handed to every component."""

    collector: str
    interval: float
    started: float
    finished: float
    samples: list[Sample]
    transitions: list[Transition]


class Component(Protocol):
    """Something attached to the agent: sees every round, may schedule jobs of its own."""

    async def start(self, agent: Agent) -> None: ...

    async def on_round(self, result: RoundResult) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class RoundStats:
    rounds: int = 0
    skipped: int = 0
    last_finished: float | None = None
    last_duration: float | None = None
    retries: int = 0  # re-probes of targets whose state was changing (agent.retries)


@dataclass
class Agent:
    inventory: Inventory
    store: Store | None = None
    components: list[Component] = field(default_factory=list)
    attach_hooks: bool = True

    def __post_init__(self) -> None:
        if self.store is None:
            self.store = open_store(self.inventory.data_dir)
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yunwei-store")
        self.collectors: dict[str, Collector] = {}
        self.groups: dict[tuple[str, float], list[Target]] = {}
        self.fleet = FleetState(self.inventory, initial=self.store.current_states(), initial_probes=self.store.probe_states())
        self.fleet.observe_latest(self.store.latest_samples())
        self.logged_windows: dict[str, float] = {}  # maintenance occurrences filed in the ledger (uid → end)
        self.windows_seen: tuple[int, int] | None = None  # stored windows as last read (agent.windows.signature)
        self.stats: dict[tuple[str, float], RoundStats] = defaultdict(RoundStats)
        self.scheduler: AsyncIOScheduler | None = None
        self.scheduling_rounds = False
        self.run_id: int | None = None
        self._running: set[asyncio.Task[Any]] = set()
        self._round_lock: dict[tuple[str, float], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._round_keys: dict[str, tuple[str, float]] = {}
        self.retries = Retries(self._round, self.inventory.agent.debounce.retry_seconds)
        self.undeclared = UndeclaredMetrics()
        self._build_groups()
        self.first_round = self._new_first_round()

    @property
    def db(self) -> Store:
        assert self.store is not None
        return self.store

    @property
    def tracker(self) -> StatusTracker:
        return self.fleet.tracker

    @property
    def agent_id(self) -> str:
        return self.inventory.agent.id

    # -- set-up ---------------------------------------------------------------------------

    def _build_groups(self) -> None:
        groups: dict[tuple[str, float], list[Target]] = defaultdict(list)
        for device in self.inventory.devices.values():
            for probe in device.probes.values():
                if registry.get(probe.collector).in_rounds:  # inspections run on their own schedule
                    groups[(probe.collector, probe.interval)].append(Target(device=device, probe=probe))
        self.groups = dict(groups)
        context = CollectorContext(
            agent_id=self.agent_id, data_dir=self.inventory.data_dir, timezone=self.inventory.agent.timezone
        )
        for collector_name, _ in self.groups:
            if collector_name not in self.collectors:
                self.collectors[collector_name] = registry.get(collector_name)(context)

    def _new_first_round(self) -> FirstRound:
        in_rounds = {t.device.id for targets in self.groups.values() for t in targets}
        debounce = self.inventory.agent.debounce
        bound = first_round_bound(
            [i for _, i in self.groups], debounce.up_after, debounce.down_after, debounce.retry_seconds, FIRST_RUN_SPREAD
        )
        return FirstRound(expected_devices(in_rounds, self.fleet.observed_states()), time.time(), bound)

    async def in_writer(self, function: Callable[..., T], *args: Any) -> T:
        """Run a store call on the single writer thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.writer, function, *args)

    def add_job(self, function: Callable[..., Any], trigger: Any, job_id: str, *args: Any, **options: Any) -> Job:
        """Register a timed job on the agent's scheduler (a component calls this from ``start``).

        ``trigger`` is an APScheduler trigger (or its alias with ``options``: ``"date"``,
        ``"interval"``, ``"cron"``). Defaults: the job never overlaps itself, missed runs are
        coalesced into one, and a job of the same id is replaced (a reload re-registers)."""
        assert self.scheduler is not None, "jobs are added once the agent has started"
        options = {"max_instances": 1, "coalesce": True, "replace_existing": True, **options}
        return self.scheduler.add_job(function, trigger, args=list(args), id=job_id, name=job_id, **options)

    def remove_jobs(self, prefix: str) -> None:
        """Remove every job whose id starts with ``prefix`` (a component re-plans on reload)."""
        if self.scheduler is not None:
            for job in self.scheduler.get_jobs():
                if job.id.startswith(prefix):
                    job.remove()

    # -- rounds ---------------------------------------------------------------------------

    async def run_round(self, key: tuple[str, float]) -> RoundResult | None:
        """Probe one (collector, interval) group once and record the outcome."""
        lock = self._round_lock[key]
        if lock.locked():
            self.stats[key].skipped += 1
            log.warning("round %s/%ss still running; this run is skipped", *key)
            return None
        async with lock:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                return await self._round(key)
            finally:
                if task is not None:
                    self._running.discard(task)

    async def probe_now(self, device_id: str) -> list[RoundResult]:
        """Run the device's in-round probes once, now, and feed the fleet state and components like a
        round (a trap's confirming probe). Scheduled rounds keep their own timing."""
        keys = [key for key, targets in self.groups.items() if any(t.device.id == device_id for t in targets)]
        results = await asyncio.gather(
            *(self._round(key, [t for t in self.groups[key] if t.device.id == device_id]) for key in keys)
        )
        return [r for r in results if r is not None]

    async def _round(self, key: tuple[str, float], only: list[Target] | None = None) -> RoundResult | None:
        """Probe the group (or ``only`` those of its targets: a re-probe) and record the outcome."""
        targets = self.groups.get(key) if only is None else only
        collector = self.collectors.get(key[0])
        if not targets or collector is None:
            return None
        started = time.time()
        samples = await collector.collect(targets)
        self.undeclared.check(type(collector), targets, samples)
        missing = {(t.device.id, t.probe.name) for t in targets} - {(s.device, s.probe) for s in samples}
        for device_id, probe_name in sorted(missing):  # a collector bug must not look like an online device
            samples.append(Sample(device=device_id, probe=probe_name, ok=False, ts=started, error="no result from collector"))
        transitions = self.fleet.observe(samples)
        for transition in self.first_round.take(transitions, started):  # leaving UNKNOWN at start: summarised
            device = self.inventory.devices.get(transition.device)
            log.info(
                "%s %s → %s since %s%s",
                device.label if device else transition.device,
                transition.previous,
                transition.state,
                to_iso_seconds(transition.at, self.inventory.agent.timezone),
                f" ({transition.cause})" if transition.cause else "",
            )
        if self.first_round.finish_if_over(time.time()):
            log.info("%s", self.first_round.summary({d: device.label for d, device in self.inventory.devices.items()}))
        await self.in_writer(self._record, samples, transitions)
        finished = time.time()
        stats = self.stats[key]
        if only is None:
            stats.rounds += 1
            stats.last_finished, stats.last_duration = finished, finished - started
        else:
            stats.retries += 1
        self.retries.after_round(key, targets, self.fleet.tracker)
        result = RoundResult(key[0], key[1], started, finished, samples, transitions)
        for component in self.components:
            try:
                await component.on_round(result)
            except Exception:
                log.exception("component %s failed on a round", type(component).__name__)
        return result

    def _record(self, samples: Sequence[Sample], transitions: Sequence[Transition]) -> None:
        store = self.db
        store.write_samples(samples)
        store.add_transitions(transitions, agent=self.agent_id)
        store.set_probe_states(self.fleet.tracker.take_probe_changes())
        now = time.time()
        self._refresh_windows(now)
        self._file_maintenance(now)
        if self.run_id is not None:
            store.heartbeat(self.run_id)

    def _refresh_windows(self, now: float) -> None:
        """Take up maintenance windows made at run time (the console) when they change."""
        seen = windows.signature(self.db)
        if seen != self.windows_seen:
            self.windows_seen = seen
            self.fleet.calendar = windows.calendar(self.db, self.inventory, now)

    def _file_maintenance(self, now: float) -> None:
        """File each maintenance window occurrence in the ledger when it begins (and again if its
        end moves), whether or not alerting runs: the monthly report leaves it out by its record."""
        for occurrence in self.fleet.calendar.active(now):
            if self.logged_windows.get(occurrence.uid) == occurrence.end:
                continue
            for uid, body in maintenance_records(occurrence, self.inventory):
                self.db.put_event(uid, "record", occurrence.start, body, self.agent_id)
            self.logged_windows[occurrence.uid] = occurrence.end

    async def run_all_once(self) -> list[RoundResult]:
        """One round of every group, concurrently (``yunwei probe``, tests, the first demo pass)."""
        results = await asyncio.gather(*(self.run_round(key) for key in self.groups))
        return [r for r in results if r is not None]

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, schedule: bool = True) -> None:
        """Start the components and the scheduler. ``schedule=False``: no rounds and no
        housekeeping (the caller runs rounds itself: tests, benchmarks); components' jobs still run."""
        raise_open_files_limit()  # rounds size their concurrency within it (collectors.concurrency)
        self.run_id = await self.in_writer(self.db.start_run, self.agent_id)
        self.first_round = self._new_first_round()
        self.scheduler = AsyncIOScheduler()
        self.scheduler.add_listener(self._job_skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        if self.attach_hooks:
            self.components.extend(load_components(self))
        for component in self.components:
            await component.start(self)
        self.scheduling_rounds = schedule
        if schedule:
            self._schedule_rounds()
            # a prune missed while the machine slept runs once when it wakes
            housekeeping = {"seconds": HOUSEKEEPING_SECONDS, "misfire_grace_time": int(HOUSEKEEPING_SECONDS)}
            self.add_job(self._housekeeping, "interval", "housekeeping", **housekeeping)
        self.scheduler.start()
        log.info(
            "agent %s started: %d devices, %d round groups", self.agent_id, len(self.inventory.devices), len(self.groups)
        )

    def _schedule_rounds(self) -> None:
        jitter_fraction = self.inventory.agent.jitter
        now = datetime.now()
        self._round_keys = {f"round:{c}:{i}": (c, i) for c, i in self.groups}
        for key in self.groups:
            collector, interval = key
            first = now + timedelta(seconds=random.uniform(0, min(interval * jitter_fraction, FIRST_RUN_SPREAD)))
            self.add_job(
                self.run_round,
                "interval",
                f"round:{collector}:{interval}",
                key,
                seconds=interval,
                jitter=interval * jitter_fraction or None,
                misfire_grace_time=max(1, int(interval)),
                next_run_time=first,
            )

    def _job_skipped(self, event: JobEvent) -> None:
        """APScheduler refused a run because the last one still runs (or it ran too late): count a
        round's, log any other job's."""
        key = self._round_keys.get(event.job_id)
        if key is None:
            why = "its previous run is still going" if event.code == EVENT_JOB_MAX_INSTANCES else "it is too late"
            log.warning("job %s: %s; this run is skipped", event.job_id, why)
            return
        self.stats[key].skipped += 1
        log.warning("round %s/%ss: the previous run is still going; this run is skipped", *key)

    async def _housekeeping(self) -> None:
        moved = 0
        while step := await self.in_writer(self.db.samples.compact, time.time()):  # a few hundred devices a step
            moved += step
        if moved:
            log.info("compacted raw samples: %d moved into hourly chunks or folded into day chunks, with their rollups", moved)
        cutoff = time.time() - self.inventory.agent.retention_days * 86400
        removed = await self.in_writer(self.db.prune_samples, cutoff)
        if removed:
            log.info("pruned %d raw samples older than %.0f days", removed, self.inventory.agent.retention_days)

    async def reload(self, inventory: Inventory) -> None:
        """Adopt a new inventory without losing debounce state; rounds are rescheduled."""
        old_collectors = self.collectors
        self.inventory = inventory
        self.retries.delay = inventory.agent.debounce.retry_seconds
        self.collectors = {}
        self._build_groups()
        for name, collector in old_collectors.items():
            if name not in self.collectors:
                await collector.close()
            else:
                self.collectors[name] = collector  # keep its sockets and counter state
        self.fleet.reload(inventory)
        self.windows_seen = None  # the calendar is rebuilt from the new config and the stored windows
        if self.scheduling_rounds:
            self.remove_jobs("round:")
            self._schedule_rounds()
        for component in self.components:
            on_reload = getattr(component, "on_reload", None)
            if on_reload is not None:
                await on_reload(inventory)
        log.info("config reloaded: %d devices, %d round groups", len(inventory.devices), len(self.groups))

    async def drain(self, timeout: float = 60.0) -> None:
        """Stop scheduling, let running rounds finish (bounded), then stop everything cleanly."""
        # Pause first: APScheduler's shutdown cancels the jobs it is running, which would
        # lose the round in flight.
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()
        await self.retries.cancel()
        running = [t for t in self._running if not t.done() and t is not asyncio.current_task()]
        if running:
            log.info("waiting for %d running round(s) to finish", len(running))
            done, pending = await asyncio.wait(running, timeout=timeout)
            for task in pending:
                task.cancel()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for component in self.components:
            try:
                await component.stop()
            except Exception:
                log.exception("component %s failed to stop", type(component).__name__)
        for collector in self.collectors.values():
            await collector.close()
        if self.run_id is not None:
            await self.in_writer(self.db.stop_run, self.run_id)
            self.run_id = None
        self.writer.shutdown(wait=True)


def load_components(agent: Agent) -> list[Component]:
    """The agent's own components, then those the plugins registered."""
    components: list[Component] = [FactsRecorder(), UpsMemory(), InspectionScheduler(), MeetingScheduler()]
    for factory in COMPONENT_FACTORIES:
        components.extend(factory(agent))
    return components
