"""Rounds: never overlapping, a slow round coalesced rather than stacked, every target answered."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from agent.runtime import Agent
from collectors.base import Collector, Target
from collectors.registry import register
from core.model import Sample


@register
class SlowCollector(Collector):
    """A test collector whose rounds take longer than their interval."""

    name = "test_slow"
    in_flight = 0
    max_in_flight = 0
    rounds = 0
    delay = 1.3

    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        cls = type(self)
        cls.in_flight += 1
        cls.max_in_flight = max(cls.max_in_flight, cls.in_flight)
        try:
            await asyncio.sleep(cls.delay)
            cls.rounds += 1
            return [t.sample(True) for t in targets[1:]]  # drops one target: a collector bug
        finally:
            cls.in_flight -= 1


async def test_slow_rounds_do_not_overlap_or_stack(make_inventory) -> None:  # type: ignore[no-untyped-def]
    inventory = make_inventory(
        {
            "agent": {"jitter": 0},
            "devices": [
                {"id": f"d{i}", "address": "127.0.0.1", "probes": {"test_slow": {"interval": 0.4}}} for i in range(3)
            ],
        }
    )
    agent = Agent(inventory, attach_hooks=False)
    await agent.start()
    await asyncio.sleep(4.2)
    await agent.drain(5)
    assert SlowCollector.max_in_flight == 1
    # 4.2 s of 1.3 s rounds: about three rounds ran, not the ten the interval asked for
    assert 2 <= SlowCollector.rounds <= 4
    latest = {s.device: s for s in agent.db.latest_samples()}
    assert latest["d0"].ok is False and latest["d0"].error == "no result from collector"
    assert latest["d1"].ok and latest["d2"].ok
