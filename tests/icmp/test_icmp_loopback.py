"""Real ICMP against 127.0.0.0/8 on the host (every loopback address answers on Linux)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import pytest
from peers import need

from cli.main import main
from collectors.base import Target
from collectors.icmp import IcmpCollector, icmp_permission_problem, ping_many
from core.errors import InputError


@pytest.fixture(autouse=True)
def _icmp_usable() -> None:
    problem = icmp_permission_problem()
    need(problem is None, f"ICMP not usable here: {problem}")


@pytest.fixture
def icmp_targets(make_inventory):  # type: ignore[no-untyped-def]
    """Targets of devices built from a real config, one per address, with the given icmp options."""

    def build(addresses: list[str], interval: float = 60, **options: Any) -> list[Target]:
        inventory = make_inventory(
            {
                "devices": [
                    {"id": f"dev-{index}", "address": address, "probes": {"icmp": {"interval": interval, **options}}}
                    for index, address in enumerate(addresses)
                ]
            }
        )
        return [Target(device=d, probe=d.probes["icmp"]) for d in inventory.devices.values()]

    return build


async def collect(targets: list[Target]) -> dict[str, Any]:
    collector = IcmpCollector()
    try:
        samples = await collector.collect(targets)
    finally:
        await collector.close()
    assert len(samples) == len(targets)
    return {s.device: s for s in samples}


async def test_loopback_addresses_answer_with_sane_figures(icmp_targets) -> None:  # type: ignore[no-untyped-def]
    before = time.time()
    targets = icmp_targets(["127.0.0.1", "127.0.0.2", "127.9.8.7"], count=3, timeout=2, period_ms=20)
    samples = await collect(targets)
    for sample in samples.values():
        assert sample.ok and sample.error is None, sample
        metrics = sample.metrics
        assert metrics["sent"] == 3 and metrics["received"] == 3 and metrics["loss_percent"] == 0
        assert 0 < metrics["rtt_min_seconds"] <= metrics["rtt_seconds"] <= metrics["rtt_max_seconds"] < 0.2
        assert 0 <= metrics["jitter_seconds"] <= metrics["rtt_max_seconds"] - metrics["rtt_min_seconds"]
        assert before <= sample.ts <= time.time()


async def test_one_round_over_1000_addresses_gives_1000_good_samples(icmp_targets) -> None:  # type: ignore[no-untyped-def]
    addresses = [f"127.20.{i // 250}.{i % 250 + 1}" for i in range(1000)]
    samples = await collect(icmp_targets(addresses, count=1, timeout=2, interval_ms=0))
    assert len(samples) == 1000
    bad = [s for s in samples.values() if not s.ok]
    assert not bad, bad[:3]
    assert all(s.metrics["received"] == 1 for s in samples.values())


async def test_ipv6_loopback_answers(icmp_targets) -> None:  # type: ignore[no-untyped-def]
    need(icmp_permission_problem(__import__("socket").AF_INET6) is None, "no ICMPv6 socket")
    [sample] = (await collect(icmp_targets(["::1"], count=2, period_ms=10))).values()
    assert sample.ok and sample.metrics["received"] == 2


async def test_a_host_name_is_resolved_and_its_ip_shown(icmp_targets) -> None:  # type: ignore[no-untyped-def]
    [sample] = (await collect(icmp_targets(["localhost"], count=1))).values()
    assert sample.ok
    assert sample.info["ip"] in ("127.0.0.1", "::1")


async def test_the_address_option_overrides_the_device_address(icmp_targets) -> None:  # type: ignore[no-untyped-def]
    [sample] = (await collect(icmp_targets(["10.255.0.1"], count=1, address="127.0.0.33"))).values()
    assert sample.ok  # 10.255.0.1 is never pinged: nothing leaves loopback


async def test_concurrent_rounds_share_the_socket_without_mixing_replies() -> None:
    addresses = [f"127.21.0.{i}" for i in range(1, 201)]
    first, second, third = await asyncio.gather(
        ping_many(addresses, count=2, interval_ms=0, period_ms=10),
        ping_many(addresses, count=3, interval_ms=0, period_ms=10),
        ping_many(addresses[:50], count=4, interval_ms=0, period_ms=10, size=1000),
    )
    assert {(s.sent, s.received) for s in first.values()} == {(2, 2)}
    assert {(s.sent, s.received) for s in second.values()} == {(3, 3)}
    assert {(s.sent, s.received) for s in third.values()} == {(4, 4)}


async def test_echoes_are_paced_between_targets_and_per_target() -> None:
    addresses = [f"127.22.0.{i}" for i in range(1, 7)]
    stats = await ping_many(addresses, count=1, interval_ms=30)
    firsts = [stats[a].started for a in addresses]
    assert all(s is not None for s in firsts)
    gaps = [b - a for a, b in zip(firsts, firsts[1:], strict=False)]  # type: ignore[operator]
    assert min(gaps) >= 0.025, gaps

    started = time.monotonic()
    one = await ping_many(["127.22.1.1"], count=3, interval_ms=0, period_ms=150)
    assert one["127.22.1.1"].received == 3
    assert time.monotonic() - started >= 0.29  # three echoes to one target, 150 ms apart


async def test_pacing_shrinks_so_a_round_fits_its_interval(icmp_targets, caplog) -> None:  # type: ignore[no-untyped-def]
    # 400 echoes 10 ms apart would take 4 s, far beyond a 1 s round interval
    targets = icmp_targets([f"127.23.{i // 200}.{i % 200 + 1}" for i in range(400)], interval=1, count=1, interval_ms=10)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="yunwei.icmp"):
        samples = await collect(targets)
    assert time.monotonic() - started < 2.0
    assert all(s.ok for s in samples.values())
    assert "spacing" in caplog.text


def test_unknown_or_bad_icmp_options_are_input_errors(make_inventory) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as bad_key:
        make_inventory({"devices": [{"id": "a", "address": "127.0.0.1", "probes": {"icmp": {"cuont": 3}}}]})
    assert "cuont" in str(bad_key.value)
    with pytest.raises(InputError) as bad_count:
        make_inventory({"devices": [{"id": "a", "address": "127.0.0.1", "probes": {"icmp": {"count": 0}}}]})
    assert "count" in str(bad_count.value)


def test_probe_command_prints_the_figures(capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["probe", "icmp", "127.0.0.1", "--count", "2", "--period-ms", "10"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("127.0.0.1: UP")
    assert "loss_percent" in out and "0.0 %" in out and "rtt_seconds" in out


async def test_a_cancelled_round_releases_its_socket() -> None:
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_fds()
    slow = asyncio.create_task(ping_many([f"127.24.0.{i}" for i in range(1, 201)], count=1, interval_ms=10))
    await asyncio.sleep(0.2)
    assert open_fds() == before + 1  # one socket for the whole batch
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert open_fds() == before
    again = await ping_many(["127.24.1.1"], count=1)
    assert again["127.24.1.1"].ok


def test_icmp_rounds_follow_the_agents_default_interval(make_inventory) -> None:  # type: ignore[no-untyped-def]
    inventory = make_inventory(
        {"agent": {"default_interval": 5}, "devices": [{"id": "a", "address": "127.0.0.1", "probes": {"icmp": {}}}]}
    )
    assert inventory.devices["a"].probes["icmp"].interval == 5
