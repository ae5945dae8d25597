"""Prometheus exporter: ``/metrics`` over the latest samples, ``/healthz`` for the agent itself.

A custom collector builds the metric families at scrape time from the fleet state
(``agent.fleet``): the newest sample of every (device, probe), the devices' shown states and the
one "group rate now". Nothing is queued between scrapes, so memory is flat whether or not anyone
scrapes. The HTTP server runs in its own threads, so neither a slow scraper nor a slow round
waits for the other.

Labels are the Influx tags: agent, unit, system, group, device, kind (and probe on probe
metrics); empty values are left out of the exposition (Prometheus treats them as absent).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample as PromSample

from core.metrics import split_instance_metric
from core.model import Sample, State
from exporters.base import Exporter, register
from exporters.config import PrometheusSettings
from exporters.families import DEVICE_LABELS, IF_LABELS, PROBE_LABELS, Family, prometheus_map
from exporters.health import health_document, round_health

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult

log = logging.getLogger("yunwei.exporters.prometheus")

GROUP_LABELS = ["agent", "unit", "system", "group"]
FAULT_LEVELS = (1, 2, 3, 4)
GENERIC_FAMILIES = [
    Family("yunwei_if_metric", "Other interface metrics (if.<interface>.<name>), as the collector gives them", [*IF_LABELS, "name"]),
    Family("yunwei_metric", "Other numeric probe metrics, by name, as the collector gives them", [*PROBE_LABELS, "name"]),
]


def probe_families(generic: bool) -> list[Family]:
    """The per-probe families in exposition order; the declared ones come from the collectors."""
    return [
        Family("yunwei_up", "1 if the probe's last sample found the device alive, else 0", PROBE_LABELS),
        Family("yunwei_last_sample_timestamp_seconds", "When the probe's last sample was taken (Unix time)", PROBE_LABELS),
        *prometheus_map().families,
        *(GENERIC_FAMILIES if generic else []),
    ]


class _LazySamples:
    """The samples of one family, created one by one as the exposition iterates them."""

    def __init__(self, name: str, labelnames: list[str], rows: list[tuple[tuple[str, ...], float]]) -> None:
        self.name, self.labelnames, self.rows = name, labelnames, rows

    def __iter__(self) -> Iterator[PromSample]:
        name, labelnames = self.name, self.labelnames
        for labels, value in self.rows:
            yield PromSample(name, dict(zip(labelnames, labels, strict=True)), value, None, None)

    def __len__(self) -> int:
        return len(self.rows)


def _lazy_family(family: Family, rows: list[tuple[tuple[str, ...], float]]) -> Metric:
    metric = Metric(family.name, family.help, family.kind)
    sample_name = f"{family.name}_total" if family.kind == "counter" else family.name
    metric.samples = _LazySamples(sample_name, family.labelnames, rows)  # type: ignore[assignment]
    return metric


def _labels(values: dict[str, str | None], names: list[str]) -> list[str]:
    return [values.get(name) or "" for name in names]


class YunweiCollector(Collector):
    """Builds every yunwei_* family at scrape time."""

    def __init__(self, exporter: PrometheusExporter) -> None:
        self.exporter = exporter

    def collect(self) -> Iterator[Metric]:
        return iter(self.exporter.families())


@register
class PrometheusExporter(Exporter):
    """Serves /metrics and /healthz on ``listen`` (off unless configured)."""

    name = "prometheus"
    Settings = PrometheusSettings

    def __init__(
        self,
        settings: PrometheusSettings,
        peers: Callable[[], list[Exporter]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(settings, peers)
        self.settings: PrometheusSettings = settings
        self.clock = clock
        self.server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(YunweiCollector(self))

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        self.started = self.clock()
        host, port = self.settings.address
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        except OSError as exc:
            raise RuntimeError(f"prometheus exporter: cannot resolve listen address {host!r}: {exc}") from None
        server_class = type("_Server", (_ThreadingServer,), {"address_family": family})
        try:
            self.server = make_server(host, port, self.wsgi_app, server_class, handler_class=_QuietHandler)
        except OSError as exc:
            raise RuntimeError(f"prometheus exporter: cannot listen on {self.settings.listen}: {exc.strerror or exc}") from None
        self._thread = threading.Thread(target=self.server.serve_forever, name="yunwei-prometheus", daemon=True)
        self._thread.start()
        log.info("prometheus exporter: serving /metrics and /healthz on %s", self.url)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{'[' + host + ']' if ':' in str(host) else host}:{port}"

    def submit(self, result: RoundResult) -> None:
        """Nothing to do: a scrape reads the fleet state itself."""

    async def stop(self) -> None:
        if self.server is not None:
            server = self.server
            self.server = None
            await asyncio.to_thread(server.shutdown)
            server.server_close()

    # -- HTTP ------------------------------------------------------------------------------

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return self._metrics_app(environ, start_response)  # type: ignore[no-any-return]
        if path == "/healthz":
            code, body = self.health()
            text = json.dumps(body, ensure_ascii=False, indent=1).encode()
            start_response(f"{code} {'OK' if code == 200 else 'Service Unavailable'}", [("Content-Type", "application/json")])
            return [text]
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [f"yunwei agent {self.agent.agent_id}: /metrics /healthz\n".encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    @property
    def _metrics_app(self) -> Callable[..., Any]:
        app = getattr(self, "_app", None)
        if app is None:
            app = self._app = make_wsgi_app(self.registry)
        return app

    def health(self, now: float | None = None) -> tuple[int, dict[str, Any]]:
        now = self.clock() if now is None else now
        plans = {(name, interval): plan for name, c in self.agent.collectors.items() for interval, plan in c.plans.items()}
        rounds = round_health(self.agent.groups, dict(self.agent.stats), self.started, now, self.settings.overdue_factor, plans)
        exporters = {}
        for exporter in self.peers():
            if exporter is not self:
                exporters[exporter.name] = dict(vars(exporter.status()))
        return health_document(self.agent.agent_id, rounds, exporters, now)

    # -- metric families -----------------------------------------------------------------------

    def latest(self) -> list[Sample]:
        """The newest sample of every (device, probe) in the inventory (a copy: rounds go on)."""
        return list(self.agent.fleet.latest.copy().values())

    def families(self) -> list[Metric]:
        """Every family, built for one scrape.

        The per-probe families hold compact rows (label tuple, value) and create prometheus
        Sample objects one at a time while the exposition is written: 10,000 devices make
        ~70,000 samples, and holding them all alive at once would push the garbage collector
        into a full collection that stops every thread, the collectors' event loop included."""
        agent_id = self.agent.agent_id
        devices = self.agent.inventory.devices
        generic = self.settings.generic_metrics
        declared = prometheus_map()
        plain, per_interface = declared.plain, declared.per_interface
        rows: dict[str, list[tuple[tuple[str, ...], float]]] = defaultdict(list)
        bases: dict[str, tuple[str, ...]] = {}
        for sample in self.latest():
            base = bases.get(sample.device)
            if base is None:
                device = devices[sample.device]
                base = bases[sample.device] = (
                    agent_id, device.unit or "", device.system or "", device.group or "", sample.device, device.kind
                )
            labels = (*base, sample.probe)
            rows["yunwei_up"].append((labels, 1.0 if sample.ok else 0.0))
            rows["yunwei_last_sample_timestamp_seconds"].append((labels, sample.ts))
            for name, value in sample.metrics.items():
                if not isinstance(value, int | float):
                    continue
                route = plain.get(name)
                if route is not None:
                    rows[route.family].append(((*labels, *route.labels), float(value) * route.factor))
                    continue
                split = split_instance_metric(name) if "." in name else None
                if split is not None:
                    _, interface, metric = split
                    route = per_interface.get(metric)
                    if route is not None:
                        rows[route.family].append(((*labels, interface, *route.labels), float(value) * route.factor))
                    elif generic:
                        rows["yunwei_if_metric"].append(((*labels, interface, metric), float(value)))
                elif generic:
                    rows["yunwei_metric"].append(((*labels, name), float(value)))
        families: list[Metric] = [_lazy_family(family, rows.get(family.name, [])) for family in probe_families(generic)]
        families += self._device_families(agent_id)
        families += self._group_families(agent_id)
        families += self._fault_families(agent_id)
        families += self._agent_families(agent_id)
        return families

    def _device_families(self, agent_id: str) -> list[Metric]:
        device_up = GaugeMetricFamily(
            "yunwei_device_up", "1 if the device's confirmed (debounced) state is up, else 0", labels=DEVICE_LABELS
        )
        device_state = GaugeMetricFamily(
            "yunwei_device_state",
            "1 for the device's state now (up, down, maintenance, unknown), as status and the console show it",
            labels=[*DEVICE_LABELS, "state"],
        )
        degraded = GaugeMetricFamily(
            "yunwei_device_degraded", "1 if the device is up but another of its probes is failing", labels=DEVICE_LABELS
        )
        fleet = self.agent.fleet
        states = fleet.states(self.clock())
        failing = fleet.degraded()
        for device_id, device in self.agent.inventory.devices.items():
            state = states.get(device_id, (State.UNKNOWN, None))[0]
            labels = [agent_id, device.unit or "", device.system or "", device.group or "", device_id, device.kind]
            device_state.add_metric([*labels, str(state)], 1.0)
            if state in (State.UP, State.DOWN):
                device_up.add_metric(labels, 1.0 if state == State.UP else 0.0)
            degraded.add_metric(labels, 1.0 if device_id in failing else 0.0)
        return [device_up, device_state, degraded]

    def _group_families(self, agent_id: str) -> list[Metric]:
        inventory = self.agent.inventory
        ratio = GaugeMetricFamily(
            "yunwei_group_online_ratio",
            "Devices of the group up now / devices observed (not in maintenance, seen at least once)",
            labels=GROUP_LABELS,
        )
        threshold = GaugeMetricFamily(
            "yunwei_group_online_threshold", "The contract's online-rate threshold in force today", labels=GROUP_LABELS
        )
        for rate in self.agent.fleet.group_rates(self.clock()):
            group = inventory.groups[rate.group]
            labels = [agent_id, group.unit or "", group.system or "", rate.group]
            if rate.rate is not None:  # no member seen yet: no figure rather than a false 0 %
                ratio.add_metric(labels, rate.rate)
            if rate.threshold is not None:
                threshold.add_metric(labels, rate.threshold)
        return [ratio, threshold]

    def _fault_families(self, agent_id: str) -> list[Metric]:
        family = GaugeMetricFamily("yunwei_open_faults", "Faults opened and not yet resolved, by level", labels=["agent", "level"])
        counts: Counter[tuple[str, int]] = Counter()
        agents = {agent_id}
        for _uid, _type, _at, event_agent, body in self.agent.db.events(["fault"]):
            owner = event_agent or agent_id
            agents.add(owner)
            if body.get("resolved") is None and body.get("level") is not None:
                counts[(owner, int(body["level"]))] += 1
        for owner in sorted(agents):
            for level in FAULT_LEVELS:
                family.add_metric([owner, str(level)], float(counts.get((owner, level), 0)))
        return [family]

    def _agent_families(self, agent_id: str) -> list[Metric]:
        now = self.clock()
        round_labels = ["agent", "collector", "interval"]
        age = GaugeMetricFamily("yunwei_round_age_seconds", "Seconds since the round group last finished", labels=round_labels)
        duration = GaugeMetricFamily("yunwei_round_duration_seconds", "Duration of the last round", labels=round_labels)
        rounds = CounterMetricFamily("yunwei_rounds", "Rounds finished since the agent started", labels=round_labels)
        skipped = CounterMetricFamily("yunwei_rounds_skipped", "Rounds skipped because the previous one still ran", labels=round_labels)
        for entry in round_health(self.agent.groups, dict(self.agent.stats), self.started, now, self.settings.overdue_factor):
            labels = [agent_id, entry.collector, f"{entry.interval:g}"]
            age.add_metric(labels, entry.age_seconds)
            if entry.last_duration is not None:
                duration.add_metric(labels, entry.last_duration)
            rounds.add_metric(labels, entry.rounds)
            skipped.add_metric(labels, entry.skipped)
        exporter_labels = ["agent", "exporter"]
        queue = GaugeMetricFamily("yunwei_exporter_queue_points", "Points in memory, not yet spooled", labels=exporter_labels)
        spool = GaugeMetricFamily("yunwei_exporter_spool_points", "Points spooled, not yet accepted", labels=exporter_labels)
        sent = CounterMetricFamily("yunwei_exporter_sent_points", "Points accepted by the backend", labels=exporter_labels)
        dropped = CounterMetricFamily("yunwei_exporter_dropped_points", "Points dropped at a memory or spool cap", labels=exporter_labels)
        rejected = CounterMetricFamily("yunwei_exporter_rejected_points", "Points the backend refused as malformed", labels=exporter_labels)
        for exporter in self.peers():
            if exporter is self:
                continue
            status = exporter.status()
            labels = [agent_id, exporter.name]
            queue.add_metric(labels, status.queue_points)
            spool.add_metric(labels, status.spool_points)
            sent.add_metric(labels, status.sent_points)
            dropped.add_metric(labels, status.dropped_points)
            rejected.add_metric(labels, status.rejected_points)
        return [age, duration, rounds, skipped, queue, spool, sent, dropped, rejected]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        """Scrapes are not worth a log line each."""
