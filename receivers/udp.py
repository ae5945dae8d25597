"""A UDP listener that drains its socket on each wake-up.

asyncio's datagram transport reads one datagram per readiness event: one ``epoll_wait``, one
``recvfrom`` and one trip through the event loop per trap. Under a burst this reader takes up
to ``DRAIN`` datagrams per wake-up into one preallocated buffer, which roughly halves the
per-datagram cost (``bench/traps.py``). A datagram longer than ``max_size`` is reported as
oversized (its length, with the payload cut) rather than silently truncated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

log = logging.getLogger("yunwei.receivers")

DRAIN = 256
RECEIVE_BUFFER = 4 * 1024 * 1024


class DatagramReader:
    def __init__(self, handle: Callable[[bytes, tuple[str, int]], bytes | None], on_oversized: Callable[[], None], max_size: int) -> None:
        self.handle, self.on_oversized, self.max_size = handle, on_oversized, max_size
        self.sock: socket.socket | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.buffer = bytearray(max_size + 1)

    def open(self, host: str, port: int) -> tuple[str, int]:
        """Bind and start reading on the running loop; returns the bound address."""
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.sock, self.loop = sock, asyncio.get_running_loop()
        self.loop.add_reader(sock.fileno(), self._readable)
        bound = sock.getsockname()
        return str(bound[0]), int(bound[1])

    def _readable(self) -> None:
        sock, view = self.sock, memoryview(self.buffer)
        if sock is None:
            return
        for _ in range(DRAIN):
            try:
                size, address = sock.recvfrom_into(self.buffer)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # an ICMP error for an earlier reply: nothing to read
                continue
            if size > self.max_size:
                self.on_oversized()
                continue
            try:
                reply = self.handle(bytes(view[:size]), address)
            except Exception:  # a handler bug must not stop the listener
                log.exception("datagram from %s could not be handled", address[0])
                continue
            if reply is not None:
                with contextlib.suppress(OSError):  # a full send buffer: the sender retries an INFORM
                    sock.sendto(reply, address)

    def close(self) -> None:
        if self.sock is not None:
            if self.loop is not None and not self.loop.is_closed():
                self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
