"""Alerting inside the running agent: rounds in, ticks on a timer, the outbox in worker threads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from alerting.service import AlertingService
from core.events import Event
from inventory.config import Inventory

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult

log = logging.getLogger("yunwei.alerting")

# Deliveries run in threads of their own (never the event loop's default pool, which the
# store and probes share): one per channel with something to send, up to this many at once.
MAX_SENDING_CHANNELS = 32


class AlertingComponent:
    """The agent component (see agent.runtime.Component)."""

    def __init__(self) -> None:
        self.agent: Agent | None = None
        self.service: AlertingService | None = None
        self.ticker: asyncio.Task[Any] | None = None
        self.sender: asyncio.Task[Any] | None = None
        self.wake = asyncio.Event()
        self.deliveries: dict[str, asyncio.Future[int]] = {}  # channel → its delivery in flight
        self.executor = ThreadPoolExecutor(max_workers=MAX_SENDING_CHANNELS, thread_name_prefix="yunwei-chat")

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        self.service = await agent.in_writer(partial(AlertingService, agent.db, agent.inventory, fold_startup=True))
        channels = ", ".join(sorted(self.service.dispatcher.notifiers)) or "none (faults are recorded only)"
        if self.service.dispatcher.off:
            channels += f"; off: {', '.join(sorted(self.service.dispatcher.off))}"
        log.info("alerting started: channels %s", channels)
        self.ticker = asyncio.create_task(self._ticker(), name="alerting-ticker")
        self.sender = asyncio.create_task(self._sender(), name="alerting-sender")

    async def on_round(self, result: RoundResult) -> None:
        if self.agent is None or self.service is None:
            return
        degraded = self.agent.fleet.degraded()
        queued = await self.agent.in_writer(
            self.service.on_round, result.samples, result.transitions, None, degraded, self.agent.first_round.done
        )
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
            in_flight = [f for f in self.deliveries.values() if not f.done()]
            if in_flight:
                await asyncio.wait(in_flight, timeout=grace)
        self.executor.shutdown(wait=False)
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
        """Start a delivery for every channel with pending messages that is not already sending.

        Channels never wait for each other: each delivery runs in its own thread and this loop
        does not wait for them, so a robot that trickles its reply (held by the request's total
        deadline) delays only its own channel's messages."""
        assert self.service is not None
        outbox = self.service.outbox
        loop = asyncio.get_running_loop()
        while not outbox.stopping:
            try:
                for channel in await asyncio.to_thread(outbox.messages.channels_pending):
                    running = self.deliveries.get(channel)
                    if running is None or running.done():
                        future = loop.run_in_executor(self.executor, outbox.deliver_channel, channel)
                        future.add_done_callback(self._delivered)
                        self.deliveries[channel] = future
            except Exception:
                log.exception("alerting outbox round failed")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.service.config.outbox.poll_seconds)

    def _delivered(self, future: asyncio.Future[int]) -> None:
        """A channel's delivery ended: when it sent something look again at once (more may be due)."""
        if future.cancelled():
            return
        if future.exception() is not None:
            log.error("alerting delivery failed", exc_info=future.exception())
        elif future.result() > 0:
            self.wake.set()
