"""The trap and syslog receivers inside the running agent (a plugin: ``yunwei.plugins`` entry ``receivers``).

Receivers hand events to a bounded queue (``MAX_QUEUE``; beyond it events are counted and
dropped, so a flood cannot grow memory). A worker stores them in batches on the agent's
writer thread (gathered for ``BATCH_WAIT``: one transaction per batch, not per datagram).
Events that mean something are acted on at once, beside the store (at most ``MAX_ACTING`` at
a time; beyond that they are only stored):

- a "down" event with ``confirm`` asks the agent for an immediate confirming probe of its device
  (``Agent.probe_now``: the device's in-round probes once, fed to the tracker like a round).
  The event waits up to ``CONFIRM_SECONDS`` for it: a probe that reads the event's metric and
  disagrees (the interface is up) stops it; an unreachable device, a probe that cannot tell,
  or one still running lets it through. An event without ``confirm`` (UPS on battery) goes on
  at once with no immediate probe: a UPS reports its own state with a lag, so the scheduled
  poll confirms or clears the fault (one fault: it is the threshold rule's own);
- the event is then handed to every component with ``on_event`` (alerting opens or resolves
  the fault) and what happened is written back to the stored event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any

from agent.runtime import register_component
from core.errors import InputError
from core.events import Event
from inventory.config import Inventory
from inventory.plugins import register_section
from receivers.config import SyslogConfig, TrapsConfig
from receivers.syslog import SyslogReceiver
from receivers.trap_meanings import Context
from receivers.traps import TrapReceiver
from store.events import EventLog

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult

log = logging.getLogger("yunwei.receivers")

MAX_QUEUE = 20000
BATCH = 500
BATCH_WAIT = 0.05  # seconds the worker lets events gather before a write
MAX_ACTING = 1000
CONFIRM_SECONDS = 1.5
REPROBE_SECONDS = 5.0
PRUNE_EVERY = 3600.0
STATS_EVERY = 60.0
INTERFACE_COLLECTORS = ("snmp", "line")


def attach(agent: Agent) -> list[Any]:
    config = agent.inventory.config
    if not (config.traps.enabled or config.syslog.enabled):
        return []
    return [ReceiversComponent()]


def register() -> None:
    """The ``receivers`` entry point of ``yunwei.plugins``: the traps: and syslog: sections and the component."""
    register_section("traps", TrapsConfig, TrapsConfig)
    register_section("syslog", SyslogConfig, SyslogConfig)
    register_component(attach)


def device_index(inventory: Inventory) -> dict[str, str]:
    """Source address → device id: the device's address, then any probe's own ``address``."""
    index: dict[str, str] = {}
    for device in inventory.devices.values():
        if device.address:
            index.setdefault(device.address, device.id)
    for device in inventory.devices.values():
        for probe in device.probes.values():
            address = getattr(probe.options, "address", None)
            if isinstance(address, str) and address:
                index.setdefault(address, device.id)
    return index


class ReceiversComponent:
    def __init__(self) -> None:
        self.agent: Agent | None = None
        self.eventlog: EventLog | None = None
        self.traps: TrapReceiver | None = None
        self.syslog: SyslogReceiver | None = None
        self.queue: deque[tuple[Event, asyncio.Future[int] | None]] = deque()
        self.wake: asyncio.Event | None = None
        self.worker: asyncio.Task[None] | None = None
        self.acting: set[asyncio.Task[None]] = set()
        self.probing: dict[str, tuple[asyncio.Task[Any], float]] = {}
        self.addresses: dict[str, str] = {}
        self.interfaces: dict[str, dict[int, str]] = defaultdict(dict)
        self.queue_full = 0
        self.listening: tuple[Any, ...] = ()
        self._last_prune = 0.0
        self._last_stats = 0.0

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        self.wake = asyncio.Event()
        self.eventlog = await agent.in_writer(EventLog, agent.db)
        self.addresses = device_index(agent.inventory)
        for sample in await agent.in_writer(agent.db.latest_samples):
            self._learn_interfaces(sample.device, sample.info)
        await self._listen(agent.inventory)
        self.worker = asyncio.create_task(self._work(), name="receivers-worker")

    async def _listen(self, inventory: Inventory) -> None:
        config = inventory.config
        self.listening = _settings(inventory)
        context = Context(inventory.agent.language, self.interface_name)
        if config.traps.enabled:
            self.traps = TrapReceiver(config.traps, self.enqueue, self.resolve, context, inventory.agent.id)
            host, port = await _bind(self.traps.start(), inventory, "traps")
            log.info("trap receiver listening on %s:%d (udp)", host, port)
        if config.syslog.enabled:
            self.syslog = SyslogReceiver(config.syslog, self.enqueue, self.resolve, inventory.agent.language, inventory.agent.timezone)
            host, port = await _bind(self.syslog.start(), inventory, "syslog")
            log.info("syslog receiver listening on %s:%d (udp%s)", host, port, "+tcp" if config.syslog.tcp else "")

    def _close_listeners(self) -> None:
        for receiver in (self.traps, self.syslog):
            if receiver is not None:
                receiver.close()
        self.traps = self.syslog = None

    async def on_reload(self, inventory: Inventory) -> None:
        """New devices are matched at once; changed receiver settings reopen the listeners."""
        self.addresses = device_index(inventory)
        if self.listening != _settings(inventory):
            self._close_listeners()
            try:
                await self._listen(inventory)
            except InputError as exc:
                log.error("receivers not listening after the reload: %s", exc)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self._save_stats()
        self._close_listeners()
        if self.worker is not None:
            if self.wake is not None:
                self.wake.set()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._drain(), 5.0)
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker
        for task in list(self.acting) + [t for t, _ in self.probing.values()]:
            task.cancel()
        self.worker = None

    async def _drain(self) -> None:
        while self.queue:
            await self._store_batch()

    # -- what receivers call --------------------------------------------------------------

    def resolve(self, address: str) -> str | None:
        return self.addresses.get(address)

    def interface_name(self, device: str, index: int) -> str | None:
        return self.interfaces.get(device, {}).get(index)

    def enqueue(self, event: Event) -> None:
        """Queue an event for the store; one that means something is acted on at once (its
        stored id, for the outcome, follows when its batch is written)."""
        if len(self.queue) >= MAX_QUEUE:
            self.queue_full += 1
            stats = self.traps.stats if event.kind == "trap" and self.traps else self.syslog.stats if self.syslog else None
            if stats is not None:
                stats.queue_full += 1
            return
        stored: asyncio.Future[int] | None = None
        meaningful = event.device is not None and (event.hint is not None or event.level is not None)
        if meaningful and self.agent is not None and len(self.acting) < MAX_ACTING:
            stored = asyncio.get_running_loop().create_future()
            self._follow(asyncio.create_task(self._act(event, stored)))
        self.queue.append((event, stored))
        if self.wake is not None:
            self.wake.set()

    async def on_round(self, result: RoundResult) -> None:
        if result.collector in INTERFACE_COLLECTORS:
            for sample in result.samples:
                self._learn_interfaces(sample.device, sample.info)

    def _learn_interfaces(self, device: str, info: dict[str, str]) -> None:
        for key, value in info.items():
            if key.startswith("if.") and key.endswith(".index") and value.isdigit():
                self.interfaces[device][int(value)] = key[3:-6]

    # -- the worker -----------------------------------------------------------------------

    async def _work(self) -> None:
        assert self.wake is not None
        while True:
            try:
                with contextlib.suppress(TimeoutError):  # wake for counters and pruning even when nothing arrives
                    await asyncio.wait_for(self.wake.wait(), STATS_EVERY)
                if self.queue and len(self.queue) < BATCH:
                    await asyncio.sleep(BATCH_WAIT)  # gather a batch: one transaction, not one per datagram
                self.wake.clear()
                while self.queue:
                    await self._store_batch()
                if time.monotonic() - self._last_stats > STATS_EVERY:
                    self._last_stats = time.monotonic()
                    await self._save_stats()
                if time.monotonic() - self._last_prune > PRUNE_EVERY:
                    self._last_prune = time.monotonic()
                    await self._prune()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("storing received events failed")
                await asyncio.sleep(1.0)

    async def _store_batch(self) -> None:
        assert self.agent is not None and self.eventlog is not None
        batch = [self.queue.popleft() for _ in range(min(BATCH, len(self.queue)))]
        try:
            ids = await self.agent.in_writer(self.eventlog.add, [event for event, _ in batch])
        except BaseException as exc:
            for _, stored in batch:
                if stored is not None and not stored.done():
                    stored.set_exception(exc if isinstance(exc, Exception) else RuntimeError("not stored"))
            raise
        for (_, stored), event_id in zip(batch, ids, strict=True):
            if stored is not None and not stored.done():
                stored.set_result(event_id)

    async def _save_stats(self) -> None:
        assert self.agent is not None and self.eventlog is not None
        now = time.time()
        for name, receiver in (("traps", self.traps), ("syslog", self.syslog)):
            if receiver is not None:
                await self.agent.in_writer(self.eventlog.save_stats, name, receiver.stats.as_dict(), now)

    async def _prune(self) -> None:
        assert self.agent is not None and self.eventlog is not None
        config = self.agent.inventory.config
        for kind, days in (("trap", config.traps.retention_days), ("syslog", config.syslog.retention_days)):
            removed = await self.agent.in_writer(self.eventlog.prune, kind, time.time() - days * 86400)
            if removed:
                log.info("pruned %d %s events older than %g days", removed, kind, days)

    def _probe(self, device: str) -> asyncio.Task[Any]:
        """The device's confirming probe: one per device per ``REPROBE_SECONDS``, shared by the
        events that arrive meanwhile (a device sending many traps gets one probe, not many)."""
        assert self.agent is not None
        now = time.monotonic()
        known = self.probing.get(device)
        if known is not None and now - known[1] < REPROBE_SECONDS:
            return known[0]
        if len(self.probing) > 1000:
            self.probing = {d: v for d, v in self.probing.items() if now - v[1] < REPROBE_SECONDS}
        task = asyncio.create_task(self.agent.probe_now(device), name=f"confirm:{device}")
        self.probing[device] = (task, now)
        return task

    async def _act(self, event: Event, stored: asyncio.Future[int]) -> None:
        assert self.agent is not None and self.eventlog is not None and event.device is not None
        outcome = ""
        try:
            if event.hint == "down" and event.confirm:
                verdict = await confirm(event, self._probe(event.device), CONFIRM_SECONDS)
                if verdict == "not confirmed":
                    log.info("%s from %s not confirmed by the probe: no fault", event.name, event.device)
                    await self._outcome(stored, "not confirmed by the probe")
                    return
                outcome = verdict
                if verdict == "confirmed: device unreachable":
                    self._follow(asyncio.create_task(self._confirm_down(event.device)))
            results = []
            for component in self.agent.components:
                handler = getattr(component, "on_event", None)
                if handler is not None and component is not self:
                    results.append(await handler(event))
            outcome = "; ".join(part for part in (outcome, *results) if part)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("acting on %s from %s failed", event.name, event.device)
            outcome = "error"
        if outcome:
            await self._outcome(stored, outcome)

    async def _outcome(self, stored: asyncio.Future[int], outcome: str) -> None:
        assert self.agent is not None and self.eventlog is not None
        try:
            event_id = await stored
        except Exception:
            return  # the event could not be stored (logged by the worker)
        await self.agent.in_writer(self.eventlog.set_outcome, event_id, outcome)

    def _follow(self, task: asyncio.Task[Any]) -> None:
        self.acting.add(task)
        task.add_done_callback(self.acting.discard)

    async def _confirm_down(self, device: str) -> None:
        """The device did not answer the confirming probe: probe it again, a second apart, until
        the debounce (``down_after``) confirms it down or it answers, so a real outage becomes a
        transition (and the device's down fault) in seconds instead of rounds."""
        assert self.agent is not None
        for _ in range(self.agent.inventory.agent.debounce.down_after - 1):
            await asyncio.sleep(1.0)
            if device not in self.agent.tracker.devices or self.agent.tracker.state(device)[0] == "down":
                return
            results = await self.agent.probe_now(device)
            if all(s.ok for r in results for s in r.samples if s.device == device):
                return

    def stats(self) -> dict[str, Any]:
        return {
            "traps": self.traps.stats.as_dict() if self.traps else None,
            "syslog": self.syslog.stats.as_dict() if self.syslog else None,
            "queued": len(self.queue),
        }


async def _bind(starting: Any, inventory: Inventory, section: str) -> tuple[str, int]:
    """A listener that cannot bind is bad input naming ``traps.listen``/``syslog.listen`` (exit 2)."""
    try:
        return await starting  # type: ignore[no-any-return]
    except OSError as exc:
        hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE, see deploy/yunwei.service)" if exc.errno == 13 else ""
        raise InputError.single(inventory.source, f"cannot listen: {exc.strerror or exc}{hint}", field=f"{section}.listen") from None


def _settings(inventory: Inventory) -> tuple[Any, ...]:
    return (inventory.config.traps, inventory.config.syslog, inventory.agent.language, inventory.agent.id, inventory.agent.timezone)


async def confirm(event: Event, probe: asyncio.Task[Any], timeout: float) -> str:
    """What the confirming probe says of a "down" event: confirmed, not confirmed, or why it cannot tell."""
    done, _ = await asyncio.wait({probe}, timeout=timeout)
    if not done:
        return "probe still running"
    try:
        results = probe.result()
    except Exception:
        return "probe failed"
    samples = [s for r in results for s in r.samples if s.device == event.device]
    if not samples:
        return "no probe to confirm"
    if event.metric is not None:
        for sample in samples:
            if event.metric in sample.metrics:
                return "confirmed by the probe" if sample.metrics[event.metric] == event.value else "not confirmed"
    if any(not s.ok for s in samples):
        return "confirmed: device unreachable"
    return "probe cannot tell"
