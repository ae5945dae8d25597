"""Short re-probes of targets whose state is about to change, so a debounce completes in seconds.

With ``down_after: 3`` and a 60 s interval a device that goes down would be confirmed two full
intervals later. Like Uptime Kuma's retry interval, a target whose streak is under way (a first
failure of an up target, a first success of a down one) is probed again after
``agent.debounce.retry_seconds`` on its own, until the streak is confirmed or broken, so the
outage is confirmed ``(down_after - 1) × retry_seconds`` after its first failed sample.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from agent.transitions import StatusTracker
from inventory.models import Target

log = logging.getLogger("yunwei.agent")

RoundKey = tuple[str, float]


class Retries:
    """Schedules the re-probes of one agent; ``run(key, targets)`` probes a subset of a round group."""

    def __init__(self, run: Callable[[RoundKey, list[Target]], Awaitable[Any]], delay: float) -> None:
        self.run = run
        self.delay = delay
        self.waiting: set[tuple[RoundKey, str, str]] = set()
        self.tasks: set[asyncio.Task[Any]] = set()

    def after_round(self, key: RoundKey, targets: Sequence[Target], tracker: StatusTracker) -> None:
        """Re-probe, after ``delay``, every target of the round whose streak is under way."""
        if self.delay <= 0 or self.delay >= key[1]:
            return  # off, or the next round comes as soon
        due = [
            t for t in targets
            if tracker.pending(t.device.id, t.probe.name) and (key, t.device.id, t.probe.name) not in self.waiting
        ]
        if not due:
            return
        self.waiting.update((key, t.device.id, t.probe.name) for t in due)
        task = asyncio.get_running_loop().create_task(self._later(key, due), name=f"retry:{key[0]}:{key[1]}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _later(self, key: RoundKey, targets: list[Target]) -> None:
        await asyncio.sleep(self.delay)
        self.waiting.difference_update((key, t.device.id, t.probe.name) for t in targets)
        try:
            await self.run(key, targets)
        except Exception:
            log.exception("re-probe of %d target(s) of %s/%ss failed", len(targets), *key)

    async def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.waiting.clear()
