"""A component of the agent that runs one background task on an injected clock.

The meeting-readiness and inspection schedulers share this: ``clock`` and ``sleep`` are
injected (tests drive days in milliseconds), waits are cut to ``max_sleep`` so a changed wall
clock is noticed, the task starts at most once and ``stop`` cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult


class ClockedTask:
    """Base of the schedulers: the clock, the agent, one task, and the no-op round hook."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_sleep: float = 60.0,
    ) -> None:
        self.clock, self.sleep, self.max_sleep = clock, sleep, max_sleep
        self.agent: Agent | None = None
        self.task: asyncio.Task[None] | None = None
        self.init_state()

    def init_state(self) -> None:
        """Subclasses set up their own state here (the constructor's arguments are shared)."""

    def launch(self, work: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        """Start ``work()`` as the background task unless one runs already."""
        if self.task is None:
            self.task = asyncio.create_task(work(), name=name)

    async def nap(self, until: float | None, now: float) -> None:
        """Sleep until ``until`` (None: ``max_sleep``), never longer than ``max_sleep``."""
        wait = (until - now) if until is not None else self.max_sleep
        await self.sleep(max(0.0, min(wait, self.max_sleep)))

    async def on_round(self, result: RoundResult) -> None:
        pass

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
