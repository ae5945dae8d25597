"""SNMPv1/v2c over one asyncio UDP socket: every request of a round multiplexed by request-id.

One datagram endpoint serves thousands of devices: a request is a pending entry keyed by its
request-id, a reply is matched by request-id *and* source address, and each request carries
its own timer, so a silent device costs its own timeout (times its tries) and nothing more.
Retries resend the same message. The number of requests on the wire is bounded
(``max_in_flight``) so that replies cannot overrun the socket's receive buffer.

A v1/v2c agent drops a request with a wrong community without a word. When a device stays
silent the engine sends, once, an unauthenticated SNMPv3 discovery message (RFC 3414) to the
same port while the retries run: an agent that answers it is alive, so the silence was about
the community (or an ACL), and the caller gets ``SnmpAuthError`` instead of a timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any

from collectors._snmp import ber
from collectors._snmp.ber import Oid, VarBind
from collectors._snmp.session import (
    SnmpAuthError,
    SnmpErrorStatus,
    SnmpProtocolError,
    SnmpTimeout,
)

RECEIVE_BUFFER = 8 * 1024 * 1024


class _Pending:
    __slots__ = ("future", "address", "data", "tries_left", "timeout", "timer", "on_retry")

    def __init__(
        self,
        future: asyncio.Future[bytes],
        address: tuple[str, int],
        data: bytes,
        tries_left: int,
        timeout: float,
        on_retry: Callable[[], None] | None,
    ) -> None:
        self.future, self.address, self.data = future, address, data
        self.tries_left, self.timeout, self.on_retry = tries_left, timeout, on_retry
        self.timer: asyncio.TimerHandle | None = None


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, engine: UdpEngine) -> None:
        self.engine = engine

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.engine._received(data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable etc.: timers decide
        pass


class UdpEngine:
    """The shared v1/v2c transport of one collector instance."""

    def __init__(self, max_in_flight: int = 512) -> None:
        self.max_in_flight = max_in_flight
        self._transports: dict[int, asyncio.DatagramTransport] = {}
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(int.from_bytes(os.urandom(3), "big"))
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sent = 0
        self.received = 0
        self.garbled = 0

    def _next_id(self) -> int:
        while True:
            value = next(self._ids) & 0x7FFFFFFF
            if value and value not in self._pending:
                return value

    async def _transport(self, family: int) -> asyncio.DatagramTransport:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests, probe): start afresh
            self._transports.clear()
            self._pending.clear()
            self._slots = None
            self._loop = loop
        transport = self._transports.get(family)
        if transport is None or transport.is_closing():
            sock = socket.socket(family, socket.SOCK_DGRAM)
            for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
                if option is None:
                    continue
                try:
                    sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
                    break
                except OSError:
                    continue
            sock.setblocking(False)
            sock.bind(("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
            transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
            self._transports[family] = transport  # type: ignore[assignment]
        return self._transports[family]

    def _received(self, data: bytes, addr: Any) -> None:
        self.received += 1
        try:
            key = ber.peek_key(data)
        except ber.BerError:
            self.garbled += 1
            return
        pending = self._pending.get(key)
        if pending is None or (addr[0], addr[1]) != pending.address:
            return
        del self._pending[key]
        if pending.timer is not None:
            pending.timer.cancel()
        if not pending.future.done():
            pending.future.set_result(data)

    def _expired(self, key: int) -> None:
        pending = self._pending.get(key)
        if pending is None or pending.future.done():
            return
        if pending.tries_left > 0:
            pending.tries_left -= 1
            if pending.on_retry is not None:
                pending.on_retry()
                pending.on_retry = None
            self._send(pending)
            pending.timer = asyncio.get_running_loop().call_later(pending.timeout, self._expired, key)
            return
        del self._pending[key]
        pending.future.set_exception(SnmpTimeout("timeout"))

    def _send(self, pending: _Pending) -> None:
        family = socket.AF_INET6 if ":" in pending.address[0] else socket.AF_INET
        self.sent += 1
        self._transports[family].sendto(pending.data, pending.address)

    async def exchange(
        self,
        address: tuple[str, int],
        build: Callable[[int], bytes],
        timeout: float,
        retries: int,
        on_retry: Callable[[], None] | None = None,
        bounded: bool = True,
    ) -> bytes:
        """Send the message ``build(request_id)`` and wait for the matching reply (its raw bytes)."""
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        await self._transport(family)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_in_flight)
        if not bounded:
            return await self._exchange(address, build, timeout, retries, on_retry)
        async with self._slots:
            return await self._exchange(address, build, timeout, retries, on_retry)

    async def _exchange(
        self,
        address: tuple[str, int],
        build: Callable[[int], bytes],
        timeout: float,
        retries: int,
        on_retry: Callable[[], None] | None,
    ) -> bytes:
        key = self._next_id()
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future(), address, build(key), retries, timeout, on_retry)
        self._pending[key] = pending
        try:
            self._send(pending)
            pending.timer = loop.call_later(timeout, self._expired, key)
            return await pending.future
        finally:
            if self._pending.get(key) is pending:
                del self._pending[key]
            if pending.timer is not None:
                pending.timer.cancel()

    async def discover_v3(self, address: tuple[str, int], timeout: float) -> bool:
        """True when an SNMPv3 engine answers an unauthenticated discovery message at ``address``."""
        try:
            raw = await self.exchange(address, lambda rid: ber.encode_v3_discovery(rid, rid), timeout, 0, bounded=False)
            return ber.decode_response(raw).version == 3
        except (SnmpTimeout, OSError, ber.BerError):
            return False

    async def close(self) -> None:
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()
        for pending in self._pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
            if not pending.future.done():
                pending.future.cancel()
        self._pending.clear()


async def resolve(host: str) -> str:
    """An IP address for ``host`` (names are looked up once per session)."""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return host
    except OSError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    if not infos:
        raise OSError(f"cannot resolve {host}")
    return str(infos[0][4][0])


class CommunitySession:
    """A v1 (version 0) or v2c (version 1) endpoint of one device."""

    def __init__(
        self,
        engine: UdpEngine,
        host: str,
        port: int,
        community: str,
        version: int = 1,
        timeout: float = 2.0,
        retries: int = 1,
        discover_on_silence: bool = True,
    ) -> None:
        self.engine, self.host, self.port = engine, host, port
        self.community = community.encode()
        self.version, self.timeout, self.retries = version, timeout, retries
        self.discover_on_silence = discover_on_silence
        self._address: tuple[str, int] | None = None
        self._discovery: asyncio.Task[bool] | None = None
        self.answered = False

    async def _addr(self) -> tuple[str, int]:
        if self._address is None:
            self._address = (await resolve(self.host), self.port)
        return self._address

    async def _request(self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int = 0) -> ber.Response:
        address = await self._addr()

        def build(request_id: int) -> bytes:
            return ber.encode_request(self.version, self.community, pdu_type, request_id, list(oids), 0, max_repetitions)

        on_retry = self._start_discovery if (self.discover_on_silence and not self.answered) else None
        try:
            raw = await self.engine.exchange(address, build, self.timeout, self.retries, on_retry)
        except SnmpTimeout:
            raise await self._silence() from None
        try:
            response = ber.decode_response(raw)
        except ber.BerError as exc:
            raise SnmpProtocolError(f"garbled reply: {exc}") from None
        self.answered = True
        if response.version != self.version:
            raise SnmpProtocolError(f"agent answered with SNMP version code {response.version}, asked {self.version}")
        return response

    def _start_discovery(self) -> None:
        if self._discovery is None:
            self._discovery = asyncio.ensure_future(self._discover())

    async def _discover(self) -> bool:
        return await self.engine.discover_v3(await self._addr(), self.timeout)

    async def _silence(self) -> Exception:
        """The error for a device that stayed silent, as precise as the discovery probe allows."""
        tries = self.retries + 1
        said = f"no answer after {tries} tr{'y' if tries == 1 else 'ies'} of {self.timeout:g} s"
        causes = "device down, SNMP not enabled, or wrong community"
        if self._discovery is None:
            if self.retries == 0 and self.discover_on_silence and not self.answered:
                causes += " (with retries: 0 there is no time for the SNMPv3 discovery probe that tells a wrong community apart)"
            return SnmpTimeout(f"{said}: {causes}")
        try:
            alive = await self._discovery
        except Exception:
            alive = False
        finally:
            self._discovery = None
        if alive:
            version = "v1" if self.version == 0 else "v2c"
            return SnmpAuthError(
                f"SNMP agent is alive (answers SNMPv3 discovery) but ignores our {version} requests: "
                f"wrong community, SNMP{version} not enabled on it, or this manager's address is not allowed"
            )
        # inconclusive: many agents do not answer discovery (SNMPv3 off), a dead device neither
        return SnmpTimeout(
            f"{said}, nor to an SNMPv3 discovery probe: {causes} (an agent that does not answer discovery "
            "cannot be told apart from a dead one)"
        )

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        return await self._v1_tolerant(ber.GET, list(oids), ber.NO_SUCH_INSTANCE)

    async def get_next(self, oids: Sequence[Oid]) -> list[VarBind]:
        return await self._v1_tolerant(ber.GET_NEXT, list(oids), ber.END_OF_MIB_VIEW)

    async def get_bulk(self, oids: Sequence[Oid], max_repetitions: int) -> list[VarBind]:
        if self.version == 0:
            return await self.get_next(oids)
        response = await self._request(ber.GET_BULK, oids, max_repetitions)
        if response.error_status:
            raise SnmpErrorStatus(response.error_status, response.error_index, oids)
        return response.varbinds

    async def _v1_tolerant(self, pdu_type: int, oids: list[Oid], missing_tag: int) -> list[VarBind]:
        """GET/GETNEXT; v1's noSuchName marks one OID missing and the rest is asked again.

        tooBig splits the request in halves.
        """
        results: dict[int, VarBind] = {}
        remaining = list(range(len(oids)))
        while remaining:
            asked = [oids[i] for i in remaining]
            response = await self._request(pdu_type, asked)
            if response.error_status == 2 and self.version == 0 and 0 < response.error_index <= len(asked):
                bad = remaining.pop(response.error_index - 1)
                results[bad] = VarBind(oids[bad], missing_tag, None)
                continue
            if response.error_status == 1 and len(asked) > 1:  # tooBig
                half = len(asked) // 2
                first = await self._v1_tolerant(pdu_type, asked[:half], missing_tag)
                second = await self._v1_tolerant(pdu_type, asked[half:], missing_tag)
                for index, varbind in zip(remaining, first + second, strict=True):
                    results[index] = varbind
                break
            if response.error_status:
                raise SnmpErrorStatus(response.error_status, response.error_index, asked)
            if len(response.varbinds) != len(asked):
                raise SnmpProtocolError(f"agent answered {len(response.varbinds)} values for {len(asked)} asked")
            for index, varbind in zip(remaining, response.varbinds, strict=True):
                results[index] = varbind
            break
        return [results[i] for i in range(len(oids))]
