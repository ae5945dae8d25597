"""/metrics and /healthz: the exposition over the latest samples, scraped by a real Prometheus."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from exporters_support import PrometheusServer, feed, http_get, inventory_data
from peers import free_port, wait_for
from prometheus_client.parser import text_string_to_metric_families

from agent.runtime import Agent
from core.model import Sample
from exporters.config import PrometheusSettings
from exporters.prometheus import PrometheusExporter
from inventory.config import config_from_data

DEVICE = {"agent": "site-a", "unit": "gaj", "system": "lantian", "group": "cams", "kind": "camera"}


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    status, body = http_get(f"{url}/metrics")
    assert status == 200
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(metrics: dict[str, list[tuple[dict[str, str], float]]], family: str, **labels: str) -> float:
    matches = [v for found, v in metrics.get(family, []) if all(found.get(k) == x for k, x in labels.items())]
    assert len(matches) == 1, f"{family}{labels}: {matches} in {metrics.get(family)}"
    return matches[0]


async def started_agent(tmp_path: Path, port: int, devices: int = 4) -> Agent:
    agent = Agent(config_from_data(inventory_data(tmp_path, devices, {"prometheus": {"listen": f"127.0.0.1:{port}"}})))
    await agent.start(schedule=False)
    return agent


async def test_metrics_show_latest_samples_group_rate_and_open_faults(tmp_path: Path) -> None:
    port = free_port()
    agent = await started_agent(tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        now = time.time()
        old = [Sample(f"cam-{i}", "tcp", True, now - 120, {"rtt_seconds": 0.5}) for i in range(4)]
        await feed(agent, old)
        await feed(agent, [
            Sample("cam-0", "tcp", True, now, {"rtt_seconds": 0.004, "loss_percent": 20.0,
                                               "if.Gi0/0/1.in_bps": 8e6, "if.Gi0/0/1.in_util_percent": 8.0,
                                               "runtime_seconds": 5400.0, "cpu_percent": 12.0,
                                               "down_bps": 4e7, "down_util_percent": 40.0}),
            Sample("cam-1", "tcp", False, now, {"loss_percent": 100.0}, error="timeout"),
            Sample("cam-2", "tcp", False, now, error="refused"),
            Sample("cam-3", "tcp", True, now, {"rtt_seconds": 0.002}),
        ])
        for n, (level, resolved) in enumerate([(1, None), (3, None), (3, None), (2, "2026-11-01T10:00:00+08:00")]):
            body = {"type": "fault", "id": f"F-{n}", "level": level, "device": "cam-1",
                    "opened": "2026-11-01T09:00:00+08:00", "acknowledged": None, "resolved": resolved}
            agent.db.put_event(f"fault:F-{n}", "fault", now, body, agent="site-a")

        metrics = scrape(url)
        cam0 = {**DEVICE, "device": "cam-0", "probe": "tcp"}
        assert value(metrics, "yunwei_up", **cam0) == 1.0
        assert value(metrics, "yunwei_up", device="cam-1") == 0.0
        assert value(metrics, "yunwei_rtt_seconds", **cam0) == 0.004  # the newest sample, not the older one
        assert value(metrics, "yunwei_loss_ratio", device="cam-0") == 0.2
        assert value(metrics, "yunwei_loss_ratio", device="cam-1") == 1.0
        assert value(metrics, "yunwei_if_bytes_per_second", device="cam-0", interface="Gi0/0/1", direction="in") == 1e6  # base unit
        assert value(metrics, "yunwei_if_utilization_ratio", device="cam-0", interface="Gi0/0/1", direction="in") == 0.08
        assert value(metrics, "yunwei_ups_runtime_seconds", device="cam-0") == 5400.0
        assert value(metrics, "yunwei_metric", device="cam-0", name="cpu_percent") == 12.0
        assert value(metrics, "yunwei_line_bytes_per_second", device="cam-0", direction="down") == 5e6
        assert value(metrics, "yunwei_line_utilization_ratio", device="cam-0", direction="down") == 0.4
        assert not [labels for labels, _ in metrics["yunwei_metric"] if labels["name"] == "down_bps"]  # not twice
        assert value(metrics, "yunwei_device_up", device="cam-2") == 0.0  # debounced: down after 1 failure here
        group = {"agent": "site-a", "unit": "gaj", "system": "lantian", "group": "cams"}
        assert value(metrics, "yunwei_group_online_ratio", **group) == 0.5
        assert value(metrics, "yunwei_group_online_threshold", **group) == 0.95
        assert [value(metrics, "yunwei_open_faults", agent="site-a", level=str(n)) for n in (1, 2, 3, 4)] == [1, 0, 2, 0]
    finally:
        await agent.drain()
    with socket.socket() as probe:  # stopped: the port is free again
        assert probe.connect_ex(("127.0.0.1", port)) != 0


async def test_a_real_prometheus_scrapes_the_agent(tmp_path: Path) -> None:
    port = free_port()
    agent = await started_agent(tmp_path, port, devices=2)
    prometheus = PrometheusServer(tmp_path, f"127.0.0.1:{port}")
    try:
        await feed(agent, [Sample(f"cam-{i}", "tcp", True, time.time(), {"rtt_seconds": 0.01 * (i + 1)}) for i in range(2)])

        def scraped() -> bool:
            return len(prometheus.api("series", **{"match[]": "yunwei_rtt_seconds"})) == 2

        wait_for(scraped, timeout=20, what="series scraped by prometheus")
        series = sorted(prometheus.api("series", **{"match[]": "yunwei_rtt_seconds"}), key=lambda s: s["device"])
        for i, labels in enumerate(series):
            assert labels == {"__name__": "yunwei_rtt_seconds", **DEVICE, "device": f"cam-{i}", "probe": "tcp",
                              "instance": f"127.0.0.1:{port}", "job": "yunwei"}
        result = prometheus.api("query", query='yunwei_group_online_ratio{group="cams"}')["result"]
        assert [(r["metric"]["agent"], float(r["value"][1])) for r in result] == [("site-a", 1.0)]
    finally:
        prometheus.stop()
        await agent.drain()


async def test_healthz_turns_503_when_a_round_is_three_intervals_late(tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    data = inventory_data(tmp_path, 1)
    data["devices"][0]["probes"] = {"tcp": {"port": listener.getsockname()[1], "interval": 60}}
    agent = Agent(config_from_data(data), attach_hooks=False)
    offset = [0.0]
    port = free_port()
    prom = PrometheusExporter(PrometheusSettings(listen=f"127.0.0.1:{port}"), clock=lambda: time.time() + offset[0])
    agent.components.append(prom)
    await agent.start(schedule=False)
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        status, body = http_get(url)
        assert status == 200 and json.loads(body)["rounds"][0]["last_finished"] is None
        offset[0] = 181.0  # no round since the start, for more than 3 × 60 s
        status, body = http_get(url)
        assert status == 503 and json.loads(body)["overdue"] == ["tcp/60s"]

        offset[0] = 0.0
        await agent.run_all_once()
        status, body = http_get(url)
        document = json.loads(body)
        assert status == 200 and document["status"] == "ok"
        assert document["agent"] == "site-a" and document["rounds"][0]["rounds"] == 1
        offset[0] = 170.0  # late, but less than 3 intervals
        status, body = http_get(url)
        assert status == 200 and 169 < json.loads(body)["rounds"][0]["age_seconds"] < 172
        offset[0] = 185.0
        assert http_get(url)[0] == 503
    finally:
        await agent.drain()
        listener.close()


async def test_a_taken_listen_address_stops_the_start_but_not_a_reload(tmp_path: Path) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        agent = Agent(config_from_data(inventory_data(tmp_path, 1, {"prometheus": {"listen": f"127.0.0.1:{port}"}})))
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{port}"):
            await agent.start(schedule=False)

        agent = Agent(config_from_data(inventory_data(tmp_path, 1)))
        await agent.start(schedule=False)
        try:
            await agent.reload(config_from_data(inventory_data(tmp_path, 1, {"prometheus": {"listen": f"127.0.0.1:{port}"}})))
            await feed(agent, [Sample("cam-0", "tcp", True, time.time())])  # the agent still runs its rounds
        finally:
            await agent.drain()
    finally:
        taken.close()
