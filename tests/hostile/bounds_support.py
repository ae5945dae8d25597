"""Helpers for the bounds tests: hostile loopback servers in their own thread, and the test
process's memory read from /proc/self/status (no psutil)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


@dataclass
class Growth:
    """Peak resident memory above the starting point, in MiB (filled in when the block ends)."""

    mib: float = 0.0


@contextlib.contextmanager
def peak_rss_growth() -> Iterator[Growth]:
    """How far the process's resident set rose above its start during the block.

    Writing 5 to /proc/self/clear_refs resets the peak (VmHWM) to the current RSS, so the peak
    read afterwards belongs to this block alone."""
    Path("/proc/self/clear_refs").write_text("5")
    start = _status_kib("VmRSS")
    growth = Growth()
    try:
        yield growth
    finally:
        growth.mib = (_status_kib("VmHWM") - start) / 1024


class HostileServer:
    """An asyncio TCP server on 127.0.0.1 running ``handler`` per connection in its own thread
    (so a probe that blocked its own loop could not also stall the peer)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client gave up on us: that is the point
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()

    def __enter__(self) -> HostileServer:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        async def shutdown() -> None:
            for task in list(self._tasks):
                task.cancel()
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


async def read_request(reader: asyncio.StreamReader) -> None:
    """Read an HTTP request head (what a hostile server does before misbehaving)."""
    with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        await reader.readuntil(b"\r\n\r\n")


async def trickle_bytes(writer: asyncio.StreamWriter, data: bytes, pause: float) -> None:
    """Send ``data`` one byte at a time, ``pause`` seconds apart (a slowloris peer)."""
    for byte in data:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(pause)
