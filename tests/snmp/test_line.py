"""The ``line`` collector: ICMP bursts to the far end (loopback), the edge interface from snmpsim."""

from __future__ import annotations

from typing import Any

import pytest
from peers import need
from snmp_support import Clock, Snmpsim, example_threshold_metrics

from cli.commands.probe import build_target
from collectors._icmp_targets import PingStats
from collectors.base import Target
from collectors.icmp import icmp_permission_problem
from collectors.line import LineCollector, parse_bandwidth
from core.model import Sample
from inventory.models import ResolvedDevice


def line_target(options: dict[str, Any], attrs: dict[str, Any] | None = None, address: str = "127.0.0.1") -> Target:
    target = build_target("line", address, options, kind="line")
    if attrs is None:
        return target
    return Target(device=ResolvedDevice(**{**target.device.model_dump(), "attrs": attrs}), probe=target.probe)


def edge(snmpsim: Snmpsim, community: str, interface: str = "uplink-to-core") -> dict[str, Any]:
    return {"address": "127.0.0.1", "port": snmpsim.port, "community": community, "interface": interface, "timeout": 2}


def need_icmp() -> None:
    problem = icmp_permission_problem()
    need(problem is None, f"ICMP not usable here: {problem}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100M", (100e6, 100e6)),
        ("2M", (2e6, 2e6)),
        ("300M/1000M", (300e6, 1000e6)),
        ("1G", (1e9, 1e9)),
        ("512k", (512e3, 512e3)),
        ("10Mbps", (10e6, 10e6)),
        ("100兆", (100e6, 100e6)),
        (2_000_000, (2e6, 2e6)),
    ],
)
def test_contracted_bandwidth_spellings(text: Any, expected: tuple[float, float]) -> None:
    assert parse_bandwidth(text) == expected


def test_a_bad_bandwidth_is_refused_with_the_value_named() -> None:
    from core.errors import InputError

    with pytest.raises(InputError, match="'100 apples' is not a bandwidth"):
        build_target("line", "127.0.0.1", {"bandwidth": "100 apples"})


async def test_burst_and_edge_utilisation_of_the_contract(snmpsim: Snmpsim) -> None:
    need_icmp()
    clock = Clock()
    collector = LineCollector()
    collector.clock = clock
    attrs = {"bandwidth": "120K/1M"}  # up 120 kbit/s, down 1 Mbit/s
    try:
        [first] = await collector.collect([line_target({"edge": edge(snmpsim, "switch-round1")}, attrs)])
        clock.now += 60
        [second] = await collector.collect([line_target({"edge": edge(snmpsim, "switch-round2")}, attrs)])
    finally:
        await collector.close()
    assert first.ok, first.error
    assert first.metrics["loss_percent"] == 0 and first.metrics["echoes_sent"] == 10
    assert 0 < first.metrics["rtt_min_seconds"] <= first.metrics["rtt_avg_seconds"] <= first.metrics["rtt_max_seconds"] < 0.1
    assert first.metrics["jitter_seconds"] >= 0
    assert first.metrics["oper_up"] == 1
    assert "up_bps" not in first.metrics  # no counter baseline yet
    # round 2: the edge interface sent 750,000 bytes (up) and received 75,000 bytes (down) in 60 s
    assert second.metrics["up_bps"] == pytest.approx(100_000)
    assert second.metrics["down_bps"] == pytest.approx(10_000)
    assert second.metrics["up_util_percent"] == pytest.approx(100_000 / 120_000 * 100)
    assert second.metrics["down_util_percent"] == pytest.approx(1.0)
    assert second.metrics["util_percent"] == pytest.approx(83.33, abs=0.01)
    assert second.metrics["bandwidth_up_bps"] == 120e3 and second.info["bandwidth"] == "120K/1M"
    assert second.metrics["degraded"] == 0  # 83 % < 90 %
    watched = example_threshold_metrics("line")  # the example's alerting rules name real metrics
    assert watched and watched <= set(second.metrics)


async def test_sustained_threshold_degrades_after_n_rounds_and_recovers(snmpsim: Snmpsim) -> None:
    need_icmp()
    collector = LineCollector()
    strict = {"max_rtt_ms": 0.000001, "degrade_after": 3, "burst": 3, "period_ms": 0}
    try:
        rounds = [await collector.collect([line_target(strict)]) for _ in range(3)]
        [relaxed] = await collector.collect([line_target({**strict, "max_rtt_ms": 1000})])
    finally:
        await collector.close()
    flags = [r[0].metrics["degraded"] for r in rounds]
    assert flags == [0, 0, 1]  # loopback RTT exceeds 1 ns in every round: degraded on the third
    third = rounds[2][0]
    assert third.ok  # degraded is not down
    assert third.metrics["degraded_rtt"] == 1 and third.metrics["degraded_loss"] == 0
    assert "RTT" in third.info["degraded_reasons"] and "for 3 rounds" in third.info["degraded_reasons"]
    assert relaxed.metrics["degraded"] == 0 and "degraded_reasons" not in relaxed.info


async def test_edge_interface_down_means_line_down(snmpsim: Snmpsim) -> None:
    collector = LineCollector()
    try:
        [sample] = await collector.collect(
            [line_target({"burst": 0, "edge": edge(snmpsim, "switch-round1", "GigabitEthernet0/0/2")}, {"bandwidth": "10M"})]
        )
    finally:
        await collector.close()
    assert not sample.ok
    assert sample.error == "edge interface GigabitEthernet0/0/2 is down"
    assert sample.metrics["oper_up"] == 0


async def test_without_icmp_the_edge_interface_decides(snmpsim: Snmpsim) -> None:
    collector = LineCollector()
    try:
        [sample] = await collector.collect([line_target({"burst": 0, "edge": edge(snmpsim, "switch-round1")})])
    finally:
        await collector.close()
    assert sample.ok and sample.error is None
    assert "loss_percent" not in sample.metrics
    assert sample.metrics["oper_up"] == 1


async def test_edge_without_answer_is_a_problem_but_echoes_still_count(snmpsim: Snmpsim) -> None:
    need_icmp()
    collector = LineCollector()
    try:
        [sample] = await collector.collect(
            [line_target({"burst": 3, "period_ms": 0, "edge": {**edge(snmpsim, "wrong-community"), "timeout": 0.2}})]
        )
    finally:
        await collector.close()
    assert sample.ok  # the far end answers
    assert sample.error.startswith("edge 127.0.0.1: ")


def judge(options: dict[str, Any], stats: PingStats, collector: LineCollector) -> Sample:
    """The verdict over a burst result (a PingStats as the ICMP engine returns it)."""
    target = line_target(options)
    return collector._judge(target, stats, None, 0.0)


def test_loss_threshold_and_total_loss() -> None:
    collector = LineCollector()
    options = {"max_loss_percent": 5, "degrade_after": 2}
    lossy = PingStats("127.0.0.1", sent=10, received=8, rtts=[0.010, 0.012, 0.011, 0.030, 0.010, 0.011, 0.012, 0.010])
    first = judge(options, lossy, collector)
    second = judge(options, lossy, collector)
    assert first.ok and first.metrics["loss_percent"] == 20 and first.metrics["degraded"] == 0
    assert second.metrics["degraded_loss"] == 1
    assert second.info["degraded_reasons"] == "loss 20% > 5% for 2 rounds"
    assert second.metrics["jitter_seconds"] == pytest.approx(0.046 / 7)  # mean |ΔRTT|
    dead = judge(options, PingStats("127.0.0.1", sent=10, received=0), collector)
    assert not dead.ok
    assert dead.error.startswith("far end 127.0.0.1 does not answer: 100% loss (10 sent)")
    assert dead.metrics["degraded"] == 0  # down, not degraded
