"""Helpers of the video tests: one-shot targets and probes, a scriptable loopback TCP server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from cli.commands.probe import build_target
from collectors import registry
from collectors.base import CollectorContext, Target
from core.model import Sample


def make_target(collector: str, address: str, **options: Any) -> Target:
    """A validated one-device target, as ``yunwei probe`` builds it."""
    return build_target(collector, address, options)


async def probe_once(collector: str, target: Target, context: CollectorContext | None = None) -> Sample:
    instance = registry.get(collector)(context)
    try:
        samples = await instance.collect([target])
    finally:
        await instance.close()
    assert len(samples) == 1
    return samples[0]


class LoopbackServer:
    """A TCP server in the test's event loop with a handler the test chooses."""

    def __init__(self, handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]) -> None:
        self.handler = handler
        self.server: asyncio.AbstractServer | None = None
        self.port = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        self.connections = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.connections += 1
        try:
            await self.handler(reader, writer)
        finally:
            writer.close()
            self.tasks.discard(task)

    async def __aenter__(self) -> LoopbackServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):  # handlers that never return (the "never answers" peer)
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()
