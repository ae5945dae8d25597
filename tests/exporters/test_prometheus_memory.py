"""/metrics reads the fleet state at scrape time: nothing queues between scrapes, so the agent's
memory stays flat when nobody scrapes (it used to grow ~25 MB an hour at 1,000 devices)."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from exporters_support import inventory_data
from peers import free_port

from agent.runtime import Agent, RoundResult
from core.model import Sample
from inventory.config import config_from_data

DEVICES = 10_000


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


async def test_memory_is_flat_over_many_rounds_without_a_scrape(tmp_path: Path) -> None:
    data = inventory_data(tmp_path, DEVICES, {"prometheus": {"listen": f"127.0.0.1:{free_port()}"}})
    data["alerting"] = {"enabled": False}
    agent = Agent(config_from_data(data))
    await agent.start(schedule=False)
    try:
        async def one_round(number: int) -> None:
            now = time.time()
            samples = [
                Sample(f"cam-{i}", "tcp", True, now, {"rtt_seconds": 0.001 * (number % 7), "connect_seconds": 0.001})
                for i in range(DEVICES)
            ]
            result = RoundResult("tcp", 60.0, now, now, samples, agent.fleet.observe(samples))
            for component in agent.components:
                await component.on_round(result)

        for number in range(5):  # warm up: every series exists, allocators settle
            await one_round(number)
        gc.collect()
        before = rss_mb()
        for number in range(5, 45):  # 40 rounds of 10,000 samples, nobody scrapes
            await one_round(number)
        gc.collect()
        grown = rss_mb() - before
    finally:
        await agent.drain()
    assert grown < 15, f"RSS grew {grown:.1f} MB over 40 rounds without a scrape"
