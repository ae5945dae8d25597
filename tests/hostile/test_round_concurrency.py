"""Rounds fit their interval when many probes time out: concurrency is sized from targets ×
timeout ÷ interval, within the open-file and memory limits; a round that cannot fit says why,
once, in the log and in /healthz."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterator

import pytest

from agent.runtime import Agent
from collectors.concurrency import FILL, plan_round
from exporters.health import health_document, round_health

MIB = 1024 * 1024


@contextlib.contextmanager
def blackhole() -> Iterator[int]:
    """A loopback port whose listener never accepts and whose backlog is full: every further
    SYN is dropped, so a connect neither succeeds nor is refused (it times out)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(16):  # fill the accept queue until a connect no longer completes
            filler = socket.socket()
            filler.settimeout(0.2)
            fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.fail("the listener's backlog never filled")
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.parametrize("targets", [200, 600])
async def test_every_round_of_never_answering_targets_fits_its_interval(make_inventory, targets: int) -> None:
    """600 × 1 s in 2 s needs 600 at once: more than the old fixed 512, whose rounds took 2 s."""
    interval, timeout = 2.0, 1.0
    with blackhole() as port:
        inventory = make_inventory(
            {
                "devices": [
                    {"id": f"d{i}", "address": "127.0.0.1", "probes": {"tcp": {"port": port, "timeout": timeout, "interval": interval}}}
                    for i in range(targets)
                ]
            }
        )
        agent = Agent(inventory, attach_hooks=False)
        try:
            for _ in range(2):
                started = time.monotonic()
                [result] = await agent.run_all_once()
                elapsed = time.monotonic() - started
                assert len(result.samples) == targets
                assert all(not s.ok and s.error == f"timeout after {timeout:g} s (port {port})" for s in result.samples)
                assert elapsed < interval, f"a round of {targets} took {elapsed:.2f} s, longer than its {interval:g} s interval"
        finally:
            await agent.drain(5)
    plan = agent.collectors["tcp"].plans[interval]
    assert plan.fits and plan.concurrency >= targets and plan.why is None


def plan(count: int, timeout: float, interval: float, files: int = 10_000, memory: int = 512 * MIB, per_probe: int = 64 * 1024):
    return plan_round("tcp", interval, [timeout] * count, 512, per_probe, files, files + 100, memory)


@pytest.mark.parametrize(
    ("count", "timeout", "interval", "needed"),
    [
        (1000, 3.0, 5.0, 1000),  # the fleet: one wave of 3 s fits 4 s, so all at once
        (1000, 1.0, 5.0, 250),  # four waves of 1 s fit in 4 s
        (10_000, 2.0, 60.0, 417),  # 24 waves
        (10, 1.0, 60.0, 1),
    ],
)
def test_the_rule_is_targets_times_timeout_over_interval_in_whole_waves(count, timeout, interval, needed) -> None:
    result = plan(count, timeout, interval)
    assert result.needed == needed and result.fits
    assert result.concurrency == min(count, max(needed, 512))
    assert result.worst_case_seconds <= FILL * interval


def test_a_round_that_cannot_fit_says_which_limit() -> None:
    by_files = plan(1000, 3.0, 5.0, files=300)
    assert not by_files.fits and by_files.concurrency == 300 and by_files.limit == "open files"
    assert by_files.why == (
        "1000 targets × 3 s timeout need 1000 probes at once to fit 5 s; the open-file limit allows 300"
        " (RLIMIT_NOFILE 400: raise LimitNOFILE)"
    )
    by_memory = plan(1000, 10.0, 60.0, memory=100 * MIB, per_probe=2 * MIB)
    assert not by_memory.fits and by_memory.concurrency == 50 and "memory budget (100 MiB, 2048 KiB a probe) allows 50" in by_memory.why
    too_long = plan(5, 10.0, 5.0)
    assert not too_long.fits and too_long.why.startswith("the probe timeout (10 s) does not fit in 80% of the interval (5 s)")


async def test_cannot_fit_is_logged_once_and_shown_in_healthz(make_inventory, caplog) -> None:
    inventory = make_inventory(
        {"devices": [{"id": "d1", "address": "127.0.0.1", "probes": {"tcp": {"port": 9, "timeout": 0.5, "interval": 0.5}}}]}
    )
    agent = Agent(inventory, attach_hooks=False)
    try:
        with caplog.at_level(logging.WARNING, logger="yunwei.collectors"):
            for _ in range(3):
                await agent.run_all_once()
    finally:
        await agent.drain(5)
    warnings = [r.getMessage() for r in caplog.records if "cannot fit" in r.getMessage()]
    assert warnings == [
        "round tcp/0.5s cannot fit its interval: the probe timeout (0.5 s) does not fit in 80% of the interval (0.5 s):"
        " shorten the timeout or lengthen the interval"
    ]
    plans = {(name, i): p for name, c in agent.collectors.items() for i, p in c.plans.items()}
    rounds = round_health(agent.groups, dict(agent.stats), 0.0, time.time(), plans=plans)
    status, body = health_document("a", rounds, {}, time.time())
    assert status == 200 and list(body["cannot_fit"]) == ["tcp/0.5s"]
    assert body["rounds"][0]["fits"] is False and body["rounds"][0]["concurrency"] == 1
