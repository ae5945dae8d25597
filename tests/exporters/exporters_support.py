"""Peers and helpers for the exporter tests: VictoriaMetrics and Prometheus on loopback."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from peers import Peer, free_port, need_binary, wait_for

from agent.runtime import Agent, RoundResult
from core.model import Sample


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Victoria:
    """A VictoriaMetrics single node on 127.0.0.1; can be stopped and restarted on the same data."""

    def __init__(self, tmp_path: Path) -> None:
        self.binary = need_binary("victoria-metrics")
        self.port = free_port()
        self.data = tmp_path / "vm-data"
        self.logs = tmp_path
        self.peer: Peer | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        self.peer = Peer(
            [self.binary, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.data}", "-loggerLevel=ERROR"],
            log=self.logs / f"vm-{self.starts}.log",
        )
        wait_for(lambda: self._healthy(), timeout=15, what="victoria-metrics")

    def _healthy(self) -> bool:
        assert self.peer is not None
        self.peer.assert_running()
        return http_get(f"{self.url}/health", timeout=0.5)[0] == 200

    def stop(self) -> None:
        if self.peer is not None:
            self.peer.stop()
            self.peer = None

    def export(self, match: str) -> list[dict[str, Any]]:
        """Raw samples of every series matching ``match`` (newest data included, unlike queries)."""
        status, _ = http_get(f"{self.url}/internal/force_flush")
        assert status == 200
        query = urllib.parse.urlencode({"match[]": match, "start": "0", "end": str(int(time.time()) + 3600)})
        status, body = http_get(f"{self.url}/api/v1/export?{query}")
        assert status == 200, body
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[Victoria]:
    vm = Victoria(tmp_path)
    vm.start()
    yield vm
    vm.stop()


def series_by(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[str, ...], dict[str, Any]]:
    """Index exported series by __name__ and the given labels."""
    found: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["metric"]["__name__"], *(row["metric"].get(k, "") for k in keys))
        assert key not in found, f"two series for {key}"
        found[key] = row
    return found


def inventory_data(tmp_path: Path, devices: int = 3, exporters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Two units, a camera group with a 95 % threshold, ``devices`` cameras probed by tcp."""
    return {
        "agent": {"id": "site-a", "data_dir": str(tmp_path / "data"), "debounce": {"down_after": 1, "up_after": 1}},
        "units": [{"id": "gaj", "name": "市公安局"}],
        "systems": [{"id": "lantian", "name": "蓝天卫士", "unit": "gaj"}],
        "groups": [
            {
                "id": "cams",
                "name": "蓝天卫士 cameras",
                "unit": "gaj",
                "system": "lantian",
                "kind": "camera",
                "online_rate": {"threshold": 0.95},
            }
        ],
        "devices": [
            {"id": f"cam-{i}", "name": f"东门 {i}", "group": "cams", "address": "127.0.0.1", "probes": {"tcp": {"port": 9}}}
            for i in range(devices)
        ],
        "exporters": exporters or {},
    }


async def feed(agent: Agent, samples: Sequence[Sample], collector: str = "tcp", interval: float = 60.0) -> RoundResult:
    """What the runtime does after a collector returned: debounce, store, hand to components."""
    started = min(s.ts for s in samples)
    transitions = agent.fleet.observe(samples)
    agent.db.write_samples(samples)
    agent.db.add_transitions(transitions, agent=agent.agent_id)
    result = RoundResult(collector, interval, started, time.time(), list(samples), transitions)
    for component in agent.components:
        await component.on_round(result)
    return result


def exporter(agent: Agent, name: str) -> Any:
    """The running exporter ``name`` of an agent started with its hooks."""
    from exporters.hooks import ExporterHub

    hubs = [c for c in agent.components if isinstance(c, ExporterHub)]
    assert hubs, "exporter hub not attached"
    return hubs[0].running[name]


def wait_delivered(exp: Any, sent_at_least: int, timeout: float = 20.0) -> None:
    def done() -> bool:
        status = exp.status()
        return status.queue_points == 0 and status.spool_points == 0 and status.sent_points >= sent_at_least

    wait_for(done, timeout=timeout, what=f"{sent_at_least} points delivered ({exp.status()})")


class PrometheusServer:
    """A real Prometheus scraping one target every second."""

    def __init__(self, tmp_path: Path, target: str) -> None:
        binary = need_binary("prometheus")
        self.port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: yunwei\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        self.peer = Peer(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'prom-data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            log=tmp_path / "prometheus.log",
        )
        wait_for(self._ready, timeout=20, what="prometheus")

    def _ready(self) -> bool:
        self.peer.assert_running()
        return http_get(f"http://127.0.0.1:{self.port}/-/ready", timeout=0.5)[0] == 200

    def api(self, path: str, **params: str) -> Any:
        status, body = http_get(f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        assert status == 200, body
        document = json.loads(body)
        assert document["status"] == "success", document
        return document["data"]

    def stop(self) -> None:
        self.peer.stop()
