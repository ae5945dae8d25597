"""InfluxDB line protocol into a real VictoriaMetrics: names, tags, values, timestamps; outages
spooled and replayed with nothing missing and nothing twice."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from exporters_support import Victoria, exporter, feed, http_get, inventory_data, series_by, wait_delivered
from peers import free_port, wait_for

from agent.runtime import Agent
from core.model import Sample, State
from inventory.config import config_from_data


def to_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, ZoneInfo("Asia/Shanghai")).isoformat()


INFLUX = {"flavor": "victoriametrics", "backoff_initial": 0.05, "backoff_max": 0.3, "fault_poll_interval": 0.2}


def make_agent(tmp_path: Path, vm: Victoria, devices: int = 3, **extra: object) -> Agent:
    settings = {**INFLUX, "url": vm.url, **extra}
    return Agent(config_from_data(inventory_data(tmp_path, devices, {"influxdb": settings})))


def round_samples(devices: int, ts: float, loss: float = 0.0) -> list[Sample]:
    return [
        Sample(
            device=f"cam-{i}",
            probe="tcp",
            ok=i != 1,
            ts=ts + i * 0.001,
            metrics={
                "rtt_seconds": 0.001 * (i + 1),
                "loss_percent": loss,
                "if.GigabitEthernet0/0/1.100.in_bps": 1000.0 * i,
                "if.GigabitEthernet0/0/1.100.out_bps": 2000.0 * i,
            },
        )
        for i in range(devices)
    ]


async def test_points_arrive_with_names_tags_values_and_timestamps(tmp_path: Path, victoria: Victoria) -> None:
    agent = make_agent(tmp_path, victoria)
    await agent.start(schedule=False)
    ts = time.time() - 600.25
    await feed(agent, round_samples(3, ts, loss=20.0))
    opened = int(ts) - 30
    agent.db.put_event(
        "fault:F-1", "fault", ts, {"type": "fault", "id": "F-1", "level": 2, "device": "cam-1",
                                   "opened": to_iso(opened), "acknowledged": None, "resolved": None},
        agent="site-a",
    )
    exp = exporter(agent, "influxdb")
    wait_delivered(exp, sent_at_least=3 + 3 + 3 + 1)  # samples, interface lines, transitions, group
    # this test's fault, by the query read below (the VictoriaMetrics of the module holds other tests' faults too)
    wait_for(lambda: ("yunwei_fault_open", "cam-1", "", "F-1") in series_by(victoria.export('{agent="site-a"}'), "device", "interface", "fault"),
             timeout=10, what="fault exported")
    await agent.drain()

    rows = series_by(victoria.export('{agent="site-a"}'), "device", "interface", "fault")
    tags = {"agent": "site-a", "unit": "gaj", "system": "lantian", "group": "cams", "kind": "camera"}
    for i in range(3):
        device = f"cam-{i}"
        stamp = int(round((ts + i * 0.001) * 1000))
        up = rows[("yunwei_up", device, "", "")]
        assert up["metric"] == {"__name__": "yunwei_up", **tags, "device": device, "probe": "tcp"}
        assert up["values"] == [0 if i == 1 else 1] and up["timestamps"] == [stamp]
        assert rows[("yunwei_rtt_seconds", device, "", "")]["values"] == [0.001 * (i + 1)]
        assert rows[("yunwei_loss_percent", device, "", "")]["values"] == [20]
        bps = rows[("yunwei_if_in_bps", device, "GigabitEthernet0/0/1.100", "")]
        assert bps["metric"]["probe"] == "tcp" and bps["values"] == [1000 * i] and bps["timestamps"] == [stamp]
        assert rows[("yunwei_if_out_bps", device, "GigabitEthernet0/0/1.100", "")]["values"] == [2000 * i]
        state = rows[("yunwei_state_up", device, "", "")]
        assert state["metric"] == {"__name__": "yunwei_state_up", **tags, "device": device}
        assert state["values"] == [0 if i == 1 else 1] and state["timestamps"] == [stamp]
        assert rows[("yunwei_state_down", device, "", "")]["values"] == [1 if i == 1 else 0]
    group = rows[("yunwei_group_online_ratio", "", "", "")]
    assert group["metric"] == {"__name__": "yunwei_group_online_ratio", "agent": "site-a", "unit": "gaj",
                               "system": "lantian", "group": "cams"}
    assert group["values"] == pytest.approx([2 / 3], rel=1e-9)  # VictoriaMetrics keeps 12 digits
    assert rows[("yunwei_group_online_threshold", "", "", "")]["values"] == [0.95]
    fault = rows[("yunwei_fault_open", "cam-1", "", "F-1")]
    assert fault["metric"]["level"] == "2" and fault["metric"]["group"] == "cams"
    assert fault["values"] == [1] and fault["timestamps"] == [opened * 1000]


async def test_a_real_round_is_exported_as_the_store_recorded_it(tmp_path: Path, victoria: Victoria) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    data = inventory_data(tmp_path, 2, {"influxdb": {**INFLUX, "url": victoria.url}})
    for device in data["devices"]:
        device["probes"] = {"tcp": {"port": listener.getsockname()[1], "timeout": 2}}
    agent = Agent(config_from_data(data))
    await agent.start(schedule=False)
    try:
        await agent.run_all_once()
        wait_delivered(exporter(agent, "influxdb"), sent_at_least=2)
    finally:
        await agent.drain()
        listener.close()
    rows = series_by(victoria.export('{__name__=~"yunwei_(up|rtt_seconds)"}'), "device")
    for device in ("cam-0", "cam-1"):
        (recorded,) = agent.db.samples_for(device)
        assert recorded.ok
        assert rows[("yunwei_up", device)]["values"] == [1]
        assert rows[("yunwei_up", device)]["timestamps"] == [int(round(recorded.ts * 1000))]
        assert rows[("yunwei_rtt_seconds", device)]["values"] == pytest.approx([recorded.metrics["rtt_seconds"]], rel=1e-9)


def spool_rows(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "data" / "yunwei.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM exporter_spool").fetchone()[0])


async def test_outage_is_spooled_and_replayed_once_across_a_restart(tmp_path: Path, victoria: Victoria) -> None:
    base = time.time() - 3600
    agent = make_agent(tmp_path, victoria, batch_size=20)  # 6-line rounds: replay merges 3 spool rows per request
    await agent.start(schedule=False)
    exp = exporter(agent, "influxdb")
    for k in range(3):
        await feed(agent, round_samples(3, base + 60 * k))
    wait_delivered(exp, sent_at_least=3 * 6)

    victoria.stop()  # the backend goes away mid-run
    for k in range(3, 10):
        await feed(agent, round_samples(3, base + 60 * k))
        await asyncio.sleep(0.02)
    wait_for(lambda: exp.status().backend_up is False, timeout=10, what="backend seen down")
    wait_for(lambda: exp.status().queue_points == 0, timeout=10, what="queue spooled")
    assert exp.status().spool_points >= 7 * 6  # nothing of the outage was sent: all of it is in the spool
    await agent.drain()  # an orderly stop keeps the spool
    assert spool_rows(tmp_path) > 0

    victoria.start()
    agent = make_agent(tmp_path, victoria, batch_size=20)  # 6-line rounds: replay merges 3 spool rows per request
    await agent.start(schedule=False)
    await feed(agent, round_samples(3, base + 60 * 10))
    wait_delivered(exporter(agent, "influxdb"), sent_at_least=7 * 6 + 6)
    await agent.drain()
    assert spool_rows(tmp_path) == 0

    rows = series_by(victoria.export('{__name__=~"yunwei_(up|rtt_seconds|if_in_bps)"}'), "device")
    for i in range(3):
        expected = [int(round((base + 60 * k + i * 0.001) * 1000)) for k in range(11)]
        for name in ("yunwei_up", "yunwei_rtt_seconds", "yunwei_if_in_bps"):
            series = rows[(name, f"cam-{i}")]
            assert series["timestamps"] == expected, f"{name} cam-{i}: missing or duplicated points"
        assert rows[("yunwei_rtt_seconds", f"cam-{i}")]["values"] == pytest.approx([0.001 * (i + 1)] * 11)
    states = victoria.export('{__name__="yunwei_state_up"}')
    # cam-1 went down in the first round and stayed down: one transition per device, once
    assert sorted(len(s["timestamps"]) for s in states) == [1, 1, 1]
    assert agent.tracker.state("cam-1")[0] == State.DOWN


async def test_a_hanging_backend_costs_spool_not_rounds(tmp_path: Path) -> None:
    hang = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    hang.listen(16)
    data = inventory_data(tmp_path, 3, {"influxdb": {**INFLUX, "url": f"http://127.0.0.1:{hang.getsockname()[1]}",
                                                     "timeout": 1.0}})
    agent = Agent(config_from_data(data))
    await agent.start(schedule=False)
    exp = exporter(agent, "influxdb")
    try:
        for k in range(5):
            await feed(agent, round_samples(3, time.time() - 600 + k))
        # the sender is stuck in its first request; every round is spooled anyway
        wait_for(lambda: exp.status().queue_points == 0 and exp.spooled_rounds == 5, timeout=5, what="rounds spooled")
        assert exp.status().spool_points >= 5 * 6 and exp.status().sent_points == 0
    finally:
        await agent.drain()
        hang.close()
    assert spool_rows(tmp_path) >= 1


async def test_reload_starts_changes_and_stops_exporters(tmp_path: Path, victoria: Victoria) -> None:
    port = free_port()
    agent = Agent(config_from_data(inventory_data(tmp_path, 2, {"influxdb": {**INFLUX, "url": "http://127.0.0.1:9"}})))
    await agent.start(schedule=False)
    try:
        first = exporter(agent, "influxdb")
        await agent.reload(config_from_data(inventory_data(tmp_path, 3, {
            "influxdb": {**INFLUX, "url": victoria.url}, "prometheus": {"listen": f"127.0.0.1:{port}"}})))
        second = exporter(agent, "influxdb")
        assert second is not first and second.settings.url == victoria.url
        assert http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        await feed(agent, round_samples(3, time.time() - 60))  # cam-2 exists only in the new inventory
        wait_delivered(second, sent_at_least=6)
        up = series_by(victoria.export('{__name__="yunwei_up"}'), "device")
        assert up[("yunwei_up", "cam-2")]["metric"]["group"] == "cams"
        await agent.reload(config_from_data(inventory_data(tmp_path, 3, {})))
        assert not _port_open(port)
    finally:
        await agent.drain()


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
