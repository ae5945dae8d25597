"""The syslog receiver: UDP datagrams and TCP streams on the same port (UDP read by
``receivers.udp.DatagramReader``, TCP by an asyncio protocol per connection).

TCP frames are octet-counted (RFC 6587 §3.4.1, ``LEN SP MSG``) or newline-terminated, told
apart by the first byte of each frame. Every message is cut to ``max_line`` bytes; a TCP
connection's buffer never holds more than one such message (the rest of an over-long line
is skipped up to its newline), connections are capped, and each source is rate-limited like
the trap receiver, so neither a flood nor a peer that never sends a newline grows memory.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable

from core.events import Event
from receivers.config import SyslogConfig
from receivers.limits import RateLimiter, ReceiverStats
from receivers.syslog_parse import interpret, parse
from receivers.udp import DatagramReader

log = logging.getLogger("yunwei.receivers")

MAX_OCTET_COUNT = 1 << 20  # an octet count beyond this is not syslog: the connection is closed


class SyslogReceiver:
    def __init__(
        self,
        config: SyslogConfig,
        on_event: Callable[[Event], None],
        resolve: Callable[[str], str | None] = lambda address: None,
        language: str = "zh",
        zone: str = "Asia/Shanghai",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config, self.on_event, self.resolve = config, on_event, resolve
        self.language, self.zone, self.clock = language, zone, clock
        self.limiter = RateLimiter(config.rate_per_source, config.burst, config.max_sources)
        self.stats = ReceiverStats()
        self.reader: DatagramReader | None = None
        self.server: asyncio.Server | None = None
        self.connections: set[_Stream] = set()

    def handle(self, raw: bytes, address: str) -> None:
        """One message (a datagram or one TCP frame); never raises."""
        self.stats.received += 1
        if not self.limiter.allow(address, "syslog messages"):
            self.stats.rate_limited += 1
            return
        if len(raw) > self.config.max_line:
            self.stats.oversized += 1
            raw = raw[: self.config.max_line]
        try:
            parsed = parse(raw, self.zone, self.clock())
            device = self.resolve(address)
            event = interpret(parsed, address, device, self.clock(), self.config.rules, self.language)
        except Exception:  # a parser bug must not stop reception
            self.stats.malformed += 1
            log.exception("syslog message from %s could not be parsed", address)
            return
        if device is None:
            self.stats.unknown(address, "syslog message")
        if event is None or (not event.text and not self.config.store_unmatched):
            return
        self.stats.events += 1
        try:
            self.on_event(event)
        except Exception:
            log.exception("syslog event handler failed")

    async def start(self, default_port: int = 514) -> tuple[str, int]:
        """Listen on UDP (and TCP unless ``tcp: false``) at ``syslog.listen``; returns (host, port)."""
        where = self.config.address(default_port)
        assert where is not None, "syslog.listen is not set"
        host, port = where
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        loop = asyncio.get_running_loop()
        attempts = 5 if port == 0 else 1  # port 0: UDP picks a port, and TCP may find that number taken
        for attempt in range(attempts):
            self.reader = DatagramReader(self._datagram, lambda: None, 65535)
            bound_host, bound_port = self.reader.open(host, port)
            if not self.config.tcp:
                return bound_host, bound_port
            try:
                self.server = await loop.create_server(
                    lambda: _Stream(self), bound_host, bound_port, family=family, reuse_address=True
                )
                return bound_host, bound_port
            except OSError:
                self.close()
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _datagram(self, data: bytes, address: tuple[str, int]) -> None:
        self.handle(data, address[0])

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        if self.server is not None:
            self.server.close()
            self.server = None
        for stream in list(self.connections):
            if stream.transport is not None:
                stream.transport.close()
        self.connections.clear()


class _Stream(asyncio.Protocol):
    """One TCP connection: frames out of a bounded buffer."""

    def __init__(self, receiver: SyslogReceiver) -> None:
        self.receiver = receiver
        self.buffer = bytearray()
        self.skipping = False  # inside an over-long newline-framed line: drop bytes up to its newline
        self.address = "?"
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"
        if len(self.receiver.connections) >= self.receiver.config.max_connections:
            self.receiver.stats.rejected["too many TCP connections"] += 1
            transport.close()
            return
        self.receiver.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.buffer.strip():
            self.receiver.handle(bytes(self.buffer), self.address)  # a last line without its newline
        self.buffer.clear()
        self.receiver.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        limit = self.receiver.config.max_line
        if self.skipping:
            newline = data.find(b"\n")
            if newline == -1:
                return
            data = data[newline + 1 :]
            self.skipping = False
        self.buffer += data
        while self.buffer:
            first = self.buffer[0]
            if 0x31 <= first <= 0x39:  # octet counting: "LEN SP MSG"
                space = self.buffer.find(b" ", 0, 9)
                if space == -1:
                    if len(self.buffer) < 9 or not self._newline_frame(limit):  # digits without a length: an ordinary line
                        return
                    continue
                digits = bytes(self.buffer[:space])
                if not digits.isdigit():
                    if not self._newline_frame(limit):
                        return
                    continue
                length = int(digits)
                if length > MAX_OCTET_COUNT:
                    self.receiver.stats.malformed += 1
                    if self.transport is not None:
                        self.transport.close()
                    self.buffer.clear()
                    return
                end = space + 1 + length
                if len(self.buffer) < end:
                    if len(self.buffer) - space - 1 > limit:  # keep memory bounded: hand on the head, skip the rest
                        return self._oversized_count(space, length, limit)
                    return
                frame = bytes(self.buffer[space + 1 : end])
                del self.buffer[:end]
                self.receiver.handle(frame, self.address)
            elif first in (0x0A, 0x0D, 0x00):
                del self.buffer[:1]
            elif not self._newline_frame(limit):
                return

    def _newline_frame(self, limit: int) -> bool:
        """Take one newline-terminated frame off the buffer; False when it is not complete yet."""
        newline = self.buffer.find(b"\n")
        if newline == -1:
            if len(self.buffer) > limit:
                self.receiver.handle(bytes(self.buffer[:limit]), self.address)
                self.buffer.clear()
                self.skipping = True
            return False
        frame = bytes(self.buffer[:newline]).rstrip(b"\r")
        del self.buffer[: newline + 1]
        if frame:
            self.receiver.handle(frame, self.address)
        return True

    def _oversized_count(self, space: int, length: int, limit: int) -> None:
        """An octet-counted message longer than ``limit``: deliver its head now, swallow the rest."""
        head = bytes(self.buffer[space + 1 : space + 1 + limit])
        remaining = length - (len(self.buffer) - space - 1)
        self.buffer.clear()
        self.receiver.handle(head, self.address)
        self._swallow = remaining
        self.data_received = self._swallowing  # type: ignore[method-assign]

    def _swallowing(self, data: bytes) -> None:
        if len(data) < self._swallow:
            self._swallow -= len(data)
            return
        rest = data[self._swallow :]
        del self.data_received  # back to the class's method
        if rest:
            self.data_received(rest)
