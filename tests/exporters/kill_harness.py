"""A subprocess for the SIGKILL test: the real agent and exporter fed one round after another.

``produce CONFIG BASE``: hands round k (timestamps BASE + 60 k) to the agent's components and
prints ``spooled k`` once the exporter reports that round durable in the spool; runs until
killed. ``replay CONFIG``: starts the agent, waits until the spool is empty, stops cleanly.
"""

from __future__ import annotations

import asyncio
import sys
import time

from agent.runtime import Agent, RoundResult
from core.model import Sample
from exporters.hooks import ExporterHub
from inventory.config import load_config

DEVICES = 50


def samples(base: float, k: int) -> list[Sample]:
    ts = base + 60 * k
    return [
        Sample(device=f"cam-{i}", probe="tcp", ok=True, ts=ts, metrics={"rtt_seconds": 0.001, "round": float(k)})
        for i in range(DEVICES)
    ]


async def produce(agent: Agent, base: float) -> None:
    hub = next(c for c in agent.components if isinstance(c, ExporterHub))
    exporter = hub.running["influxdb"]
    k = 0
    while True:
        batch = samples(base, k)
        result = RoundResult("tcp", 60.0, batch[0].ts, time.time(), batch, [])
        await hub.on_round(result)
        while exporter.spooled_rounds <= k:
            await asyncio.sleep(0.001)
        print(f"spooled {k}", flush=True)
        k += 1
        await asyncio.sleep(0.005)


async def replay(agent: Agent) -> None:
    hub = next(c for c in agent.components if isinstance(c, ExporterHub))
    exporter = hub.running["influxdb"]
    deadline = time.monotonic() + 30
    while exporter.status().spool_points and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    print(f"spool {exporter.status().spool_points} sent {exporter.status().sent_points}", flush=True)


async def main(mode: str, config: str, base: float) -> None:
    agent = Agent(load_config(config))
    await agent.start(schedule=False)
    try:
        if mode == "produce":
            await produce(agent, base)
        else:
            await replay(agent)
    finally:
        await agent.drain()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.0))
