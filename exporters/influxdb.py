"""InfluxDB exporter: line protocol to InfluxDB 2.x/3.x, 1.8+ (compat API) or VictoriaMetrics.

Data path, and why a round never waits for the backend::

    on_round ─► memory queue ─► spooler thread ─► SQLite spool ─► sender thread ─► /api/v2/write
     (append,     (bounded:       (encode, gzip,     (durable,       (merge rows, POST,
      µs)          queue_max_       one INSERT per     replayed         delete after 2xx,
                   points)          hand-over)         in id order)     backoff on failure)

*Spool first*: every batch is written to the spool before it is sent and deleted once the
backend accepted it. A dead or slow backend therefore costs disk, not memory, and an agent
killed with SIGKILL loses at most the rounds handed over in the last few milliseconds (the
spooler wakes as soon as a round arrives). A batch accepted but not yet deleted when the agent
dies is sent again: same series, same timestamp, same values, so the store keeps one point.

Writes are plain POSTs to ``/api/v2/write`` from the sender thread (exporters.influx_write), each within a total
deadline and reading at most 64 KiB of the answer (a trickling or flooding backend costs one
timeout, then a retry with backoff); batching, gzip, retries and backoff are done here so that
failures can be spooled.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from exporters.base import Exporter, ExporterStatus, register
from exporters.config import InfluxDBSettings
from exporters.influx_write import InfluxWriter, TooLarge, WriteFailed, WriteRejected
from exporters.lineproto import FaultTimes, LineEncoder, device_tags, fault_lines, group_line
from store.spool import Spool, SpoolBatch

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult

log = logging.getLogger("yunwei.exporters.influxdb")

FLUSH_ON_STOP_SECONDS = 5.0


@register
class InfluxDBExporter(Exporter):
    """Pushes every round to an InfluxDB line-protocol endpoint through a durable spool."""

    name = "influxdb"
    Settings = InfluxDBSettings

    def __init__(
        self,
        settings: InfluxDBSettings,
        peers: Callable[[], list[Exporter]] | None = None,
        writer_factory: Callable[[InfluxDBSettings], InfluxWriter] = InfluxWriter,
    ) -> None:
        super().__init__(settings, peers)
        self.settings: InfluxDBSettings = settings
        self.writer_factory = writer_factory
        self._queue: deque[RoundResult] = deque()
        self._queued = 0
        self._qlock = threading.Lock()
        self._wake = threading.Event()
        self._send_wake = threading.Event()
        self._stop_spooler = threading.Event()
        self._stop_sender = threading.Event()
        self._stats = ExporterStatus()
        self._threads: list[threading.Thread] = []
        self._fault_marks: dict[str, str] = {}
        self._last_group = 0.0
        self._next_fault_poll = 0.0
        self._merge_limit = settings.batch_size
        self._dropped_warned = False
        # thread CPU seconds by phase, for the bench
        self.cpu: dict[str, float] = defaultdict(float)
        self.spooled_rounds = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        self.encoder = LineEncoder(agent.agent_id, agent.inventory.devices)
        self.spool = Spool(agent.db, self.name)
        self._fault_marks = self.spool.marks("fault:")
        self.writer = self.writer_factory(self.settings)
        if self.spool.points:
            log.info("influxdb exporter: %d points from an earlier run are waiting in the spool", self.spool.points)
        self._threads = [
            threading.Thread(target=self._spooler, name="yunwei-export-spool", daemon=True),
            threading.Thread(target=self._sender, name="yunwei-export-send", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info(
            "influxdb exporter: writing to %s (%s, bucket %s)", self.settings.url, self.settings.flavor, self.settings.bucket
        )

    def submit(self, result: RoundResult) -> None:
        points = len(result.samples) + len(result.transitions)
        with self._qlock:
            if self._queued + points > self.settings.queue_max_points:
                self._stats.dropped_points += points
                warn = not self._dropped_warned
                self._dropped_warned = True
            else:
                self._queue.append(result)
                self._queued += points
                warn = False
        if warn:
            log.error(
                "influxdb exporter: memory queue full (%d points): the spool writer is stuck; dropping rounds",
                self.settings.queue_max_points,
            )
        self._wake.set()

    async def stop(self) -> None:
        self._stop_spooler.set()
        self._wake.set()
        if self._threads:
            await asyncio.to_thread(self._threads[0].join, 30.0)
            self._stop_sender.set()
            self._send_wake.set()
            await asyncio.to_thread(self._threads[1].join, FLUSH_ON_STOP_SECONDS + self.settings.timeout + 1.0)
            self._threads = []
        self.writer.close()
        if self.spool.points:
            log.info("influxdb exporter: %d points stay spooled until the next start", self.spool.points)

    def reload(self, agent: Agent) -> None:
        self.encoder = LineEncoder(agent.agent_id, agent.inventory.devices)

    def status(self) -> ExporterStatus:
        status = ExporterStatus(**vars(self._stats))
        status.queue_points = self._queued
        status.spool_points = self.spool.points if hasattr(self, "spool") else 0
        return status

    # -- spooler thread: memory queue → SQLite ------------------------------------------------

    def _spooler(self) -> None:
        while True:
            now = time.time()
            timeout = max(0.05, self._next_fault_poll - now) if self.settings.faults else 1.0
            self._wake.wait(min(timeout, 1.0))
            self._wake.clear()
            stopping = self._stop_spooler.is_set()
            try:
                self._spool_pending(time.time())
            except Exception:
                log.exception("influxdb exporter: cannot write the spool; will retry")
                if not stopping:
                    self._stop_spooler.wait(1.0)
                    continue
            if stopping:
                return

    def _spool_pending(self, now: float) -> None:
        with self._qlock:
            items = list(self._queue)
            self._queue.clear()
            count = self._queued
        try:
            clock = time.thread_time()
            encoder = self.encoder
            lines: list[str] = []
            for result in items:
                lines.extend(encoder.encode(result.samples, result.transitions))
            if items and now - self._last_group >= self.settings.group_interval:
                lines.extend(self._group_lines(now))
                self._last_group = now
            marks: dict[str, str] = {}
            if self.settings.faults and now >= self._next_fault_poll:
                fault_lines_, marks = self._fault_lines()
                lines.extend(fault_lines_)
                self._next_fault_poll = now + self.settings.fault_poll_interval
            encoded = time.thread_time()
            self.cpu["encode"] += encoded - clock
            batches = self._batches(lines)
            compressed = time.thread_time()
            self.cpu["compress"] += compressed - encoded
            dropped = self.spool.append(batches, now, self.settings.spool_max_points, marks)
            self.cpu["spool"] += time.thread_time() - compressed
        except BaseException:
            with self._qlock:  # keep the rounds for the next attempt
                self._queue.extendleft(reversed(items))
            raise
        with self._qlock:
            self._queued -= count
            if self._queued < self.settings.queue_max_points // 2:
                self._dropped_warned = False
        self._fault_marks.update(marks)
        self.spooled_rounds += len(items)
        if dropped:
            self._stats.dropped_points += dropped
            log.error(
                "influxdb exporter: spool over its cap of %d points: dropped the %d oldest",
                self.settings.spool_max_points,
                dropped,
            )
        if batches:
            self._send_wake.set()

    def _batches(self, lines: list[str]) -> list[tuple[int, str, bytes]]:
        size = self.settings.batch_size
        batches = []
        for start in range(0, len(lines), size):
            chunk = lines[start : start + size]
            body = ("\n".join(chunk) + "\n").encode("utf-8")
            if self.settings.gzip:
                batches.append((len(chunk), "gzip", gzip.compress(body, compresslevel=self.settings.gzip_level, mtime=0)))
            else:
                batches.append((len(chunk), "identity", body))
        return batches

    def _group_lines(self, now: float) -> list[str]:
        inventory = self.agent.inventory
        lines = []
        for rate in self.agent.fleet.group_rates(now):
            group = inventory.groups[rate.group]
            lines.append(group_line(self.agent.agent_id, group.unit, group.system, rate, now))
        return lines

    def _fault_lines(self) -> tuple[list[str], dict[str, str]]:
        lines: list[str] = []
        marks: dict[str, str] = {}
        devices = self.agent.inventory.devices
        for uid, _type, _at, agent_id, body in self.agent.db.events(["fault"]):
            digest = hashlib.sha1(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
            key = f"fault:{uid}"
            if self._fault_marks.get(key) == digest:
                continue
            times = _fault_times(body)
            if times is None:
                log.warning("influxdb exporter: fault %s has no readable 'opened' time; not exported", uid)
                marks[key] = digest
                continue
            device_id = str(body.get("device") or "")
            tags = device_tags(agent_id or self.agent.agent_id, device_id, devices.get(device_id))
            if device_id not in devices:  # a fault imported from another agent: take what the body says
                tags.update({k: body.get(k) for k in ("unit", "system", "group") if body.get(k)})
            if not device_id:
                tags.pop("device", None)
            level = body.get("level")
            lines.extend(fault_lines(tags, str(body.get("id") or uid), int(level) if level is not None else None, times))
            marks[key] = digest
        return lines, marks

    # -- sender thread: SQLite → backend ------------------------------------------------------

    def _sender(self) -> None:
        delay = 0.0
        deadline: float | None = None
        while True:
            if self._stop_sender.is_set():
                deadline = deadline or time.monotonic() + FLUSH_ON_STOP_SECONDS
                if delay or time.monotonic() > deadline:
                    return  # the rest stays spooled
            clock = time.thread_time()
            try:
                batch = self.spool.head(self._merge_limit)
            except Exception:
                log.exception("influxdb exporter: cannot read the spool")
                if self._stop_sender.wait(1.0):
                    return
                continue
            if batch is None:
                if self._stop_sender.is_set():
                    return
                self._send_wake.wait(1.0)
                self._send_wake.clear()
                continue
            sending = time.thread_time()
            self.cpu["spool"] += sending - clock
            try:
                self.writer.write(batch.payload, batch.encoding)
            except WriteRejected as exc:
                self._drop(batch, f"rejected by the backend ({exc}): {batch.points} points dropped")
                continue
            except TooLarge as exc:
                if len(batch.ids) > 1:
                    self._merge_limit = max(1, batch.points // 2)
                    log.warning("influxdb exporter: %s; sending smaller requests", exc)
                else:
                    self._drop(batch, f"{exc}: one batch of {batch.points} points is too large (lower batch_size)")
                continue
            except WriteFailed as exc:
                self.cpu["send"] += time.thread_time() - sending
                delay = self._failed(str(exc), delay)
                if self._stop_sender.wait(delay):
                    return
                continue
            sent = time.thread_time()
            self.cpu["send"] += sent - sending
            self.spool.delete(batch)
            self.cpu["spool"] += time.thread_time() - sent
            self._succeeded(batch, delay)
            delay = 0.0

    def _drop(self, batch: SpoolBatch, message: str) -> None:
        log.error("influxdb exporter: %s", message)
        self.spool.delete(batch)
        self._stats.rejected_points += batch.points
        self._stats.last_error = message

    def _failed(self, error: str, delay: float) -> float:
        if self._stats.backend_up is not False:
            log.warning("influxdb exporter: %s unreachable (%s); spooling until it is back", self.settings.url, error)
        self._stats.backend_up = False
        self._stats.last_error = error
        delay = min(self.settings.backoff_max, delay * 2 if delay else self.settings.backoff_initial)
        return delay * random.uniform(0.8, 1.0)

    def _succeeded(self, batch: SpoolBatch, delay: float) -> None:
        if self._stats.backend_up is False:
            log.info("influxdb exporter: %s is back; replaying %d spooled points", self.settings.url, self.spool.points)
        self._stats.backend_up = True
        self._stats.sent_points += batch.points
        self._stats.last_success = time.time()


def _fault_times(body: dict[str, Any]) -> FaultTimes | None:
    opened = _epoch(body.get("opened"))
    if opened is None:
        return None
    return FaultTimes(opened=opened, acknowledged=_epoch(body.get("acknowledged")), resolved=_epoch(body.get("resolved")))


def _epoch(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None
