"""Alerting inside the running agent: rounds in, ticks on a timer, the outbox in worker threads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from alerting.service import AlertingService
from core.events import Event
from inventory.config import Inventory

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult

log = logging.getLogger("yunwei.alerting")


class AlertingComponent:
    """The agent component (see agent.runtime.Component)."""

    def __init__(self) -> None:
        self.agent: Agent | None = None
        self.service: AlertingService | None = None
        self.ticker: asyncio.Task[Any] | None = None
        self.sender: asyncio.Task[Any] | None = None
        self.wake = asyncio.Event()

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        self.service = await agent.in_writer(AlertingService, agent.db, agent.inventory)
        channels = ", ".join(sorted(self.service.dispatcher.notifiers)) or "none (faults are recorded only)"
        if self.service.dispatcher.off:
            channels += f"; off: {', '.join(sorted(self.service.dispatcher.off))}"
        log.info("alerting started: channels %s", channels)
        self.ticker = asyncio.create_task(self._ticker(), name="alerting-ticker")
        self.sender = asyncio.create_task(self._sender(), name="alerting-sender")

    async def on_round(self, result: RoundResult) -> None:
        if self.agent is None or self.service is None:
            return
        queued = await self.agent.in_writer(self.service.on_round, result.samples, result.transitions)
        if queued:
            self.wake.set()

    async def on_event(self, event: Event) -> str:
        """A trap or syslog event (from the receivers' component): its fault opened or resolved now."""
        if self.agent is None or self.service is None:
            return ""
        outcome, queued = await self.agent.in_writer(self.service.on_event, event)
        if queued:
            self.wake.set()
        return outcome

    async def on_reload(self, inventory: Inventory) -> None:
        if self.agent is not None and self.service is not None:
            await self.agent.in_writer(self.service.reload, inventory)

    async def stop(self) -> None:
        """Stop ticking; let a delivery in flight finish (bounded) so it is marked, not resent."""
        if self.service is not None:
            self.service.outbox.stopping = True
            self.wake.set()
        if self.ticker is not None:
            self.ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.ticker
        if self.sender is not None and self.service is not None:
            channels = self.service.config.channels.values()
            grace = max((c.timeout for c in channels), default=0.0) + 2.0
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self.sender, grace)
        self.ticker = self.sender = None

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
        while not outbox.stopping:
            try:
                channels = await asyncio.to_thread(outbox.channels_pending)
                if channels:
                    await asyncio.gather(*(asyncio.to_thread(outbox.deliver_channel, c) for c in channels))
            except Exception:
                log.exception("alerting outbox round failed")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.service.config.outbox.poll_seconds)
