"""Server-Sent Events: every connected page is told when a round has finished (then it fetches its live part)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from aiohttp import web

KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 8


class Broker:
    def __init__(self) -> None:
        self.clients: set[asyncio.Queue[str | None]] = set()

    def publish(self, event: str, data: dict[str, object]) -> None:
        message = f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        for queue in list(self.clients):
            with contextlib.suppress(asyncio.QueueFull):  # a stalled client misses a tick, never blocks the agent
                queue.put_nowait(message)

    def close(self) -> None:
        for queue in list(self.clients):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_SIZE)
        self.clients.add(queue)
        try:
            await response.write(f"retry: 3000\nevent: hello\ndata: {json.dumps({'at': time.time()})}\n\n".encode())
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    message = ": keepalive\n\n"
                if message is None:
                    break
                await response.write(message.encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.clients.discard(queue)
        return response
