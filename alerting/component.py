"""Alerting inside the running agent: rounds in, ticks on a timer, the outbox in worker threads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from alerting.service import AlertingService
from inventory.config import Inventory

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult

log = logging.getLogger("yunwei.alerting")


class AlertingComponent:
    """The agent component (see agent.runtime.Component)."""

    def __init__(self) -> None:
        self.agent: Agent | None = None
        self.service: AlertingService | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.wake = asyncio.Event()

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        self.service = await agent.in_writer(AlertingService, agent.db, agent.inventory)
        channels = ", ".join(sorted(self.service.dispatcher.notifiers)) or "none (faults are recorded only)"
        log.info("alerting started: channels %s", channels)
        self.tasks = [asyncio.create_task(self._ticker()), asyncio.create_task(self._sender())]

    async def on_round(self, result: RoundResult) -> None:
        if self.agent is None or self.service is None:
            return
        queued = await self.agent.in_writer(self.service.on_round, result.samples, result.transitions)
        if queued:
            self.wake.set()

    async def on_reload(self, inventory: Inventory) -> None:
        if self.agent is not None and self.service is not None:
            await self.agent.in_writer(self.service.reload, inventory)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []

    async def _ticker(self) -> None:
        assert self.agent is not None and self.service is not None
        while True:
            try:
                if await self.agent.in_writer(self.service.tick):
                    self.wake.set()
            except Exception:
                log.exception("alerting tick failed")
            await asyncio.sleep(self.service.config.tick_seconds)

    async def _sender(self) -> None:
        """Deliver each channel in its own thread (a slow robot does not hold up the others)."""
        assert self.service is not None
        outbox = self.service.outbox
        while True:
            try:
                channels = await asyncio.to_thread(outbox.channels_pending)
                if channels:
                    await asyncio.gather(*(asyncio.to_thread(outbox.deliver_channel, c) for c in channels))
            except Exception:
                log.exception("alerting outbox round failed")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.service.config.outbox.poll_seconds)
