"""SIP probe: ``OPTIONS`` over UDP or TCP (default port 5060) to conference terminals and MCUs.

Any SIP response, whatever its status (200, 403, 404, 486 ...), proves the terminal's SIP stack
is alive: the sample is ``ok`` and records the status code, the RTT and the ``User-Agent`` (or
``Server``) header, which names the model and firmware.

UDP: one socket per round serves the whole batch; answers are matched by Call-ID. Requests are
retransmitted like a SIP client does (RFC 3261 timer E: 0.5 s, 1 s, 2 s, 4 s ...) until the
timeout, so one lost datagram is not an outage. ``rtt_seconds`` is measured from the first
transmission (what a caller would wait); ``attempts`` says how many were sent. A provisional
(1xx) answer followed by silence still counts as alive.

TCP: one connection per terminal; a refused connection is told apart from a timeout.

H.323 terminals have no such ping: probe them with the ``tcp`` collector on port 1720
(``h323: {collector: tcp, port: 1720}``).

Sample config::

    probes:
      sip:
        transport: udp        # or tcp
        port: 5060
        timeout: 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from collectors.base import REFUSED, RTT, STATUS, Collector, Target, describe_exception
from collectors.registry import register
from core.metrics import MetricSpec
from core.model import Sample

T1 = 0.5  # RFC 3261 round-trip estimate; retransmission interval doubles from here
T2 = 4.0  # cap of the retransmission interval for non-INVITE requests
MAX_MESSAGE = 65535
TCP_CONCURRENCY = 256
UDP_QUEUE = 64  # answers waiting for one probe; a phone that floods more has the rest dropped
# RFC 3261 §7.3.3 compact header names
COMPACT = {
    "i": "call-id",
    "v": "via",
    "f": "from",
    "t": "to",
    "l": "content-length",
    "m": "contact",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
}


class SipOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transport: Literal["udp", "tcp"] = "udp"
    port: int = Field(5060, ge=1, le=65535)
    timeout: float = Field(3.0, gt=0)
    address: str | None = None
    user: str | None = Field(None, description="user part of the request URI (a terminal's number), if it needs one")


class SipParseError(ValueError):
    pass


@dataclass
class SipResponse:
    status: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def agent(self) -> str | None:
        """The product string: ``User-Agent``, else ``Server``."""
        return self.header("user-agent") or self.header("server")


def parse_response(data: bytes) -> SipResponse:
    """Parse a SIP response's status line and headers (compact forms and folded lines too)."""
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    lines = head.replace("\r\n", "\n").split("\n")
    first = lines[0].strip()
    pieces = first.split(" ", 2)
    if len(pieces) < 2 or pieces[0].upper() != "SIP/2.0" or not (pieces[1].isdigit() and len(pieces[1]) == 3):
        shown = "".join(ch if ch.isprintable() else "?" for ch in first[:60])
        raise SipParseError(f"not a SIP answer: {shown!r}")
    response = SipResponse(status=int(pieces[1]), reason=pieces[2].strip() if len(pieces) > 2 else "")
    current: str | None = None
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t" and current is not None:  # folded continuation line
            response.headers[current][-1] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise SipParseError(f"malformed SIP header: {line[:60]!r}")
        key = name.strip().lower()
        key = COMPACT.get(key, key)
        response.headers.setdefault(key, []).append(value.strip())
        current = key
    return response


def build_options(
    host: str, port: int, transport: str, local: tuple[str, int], call_id: str, branch: str, tag: str, user: str | None
) -> bytes:
    """An OPTIONS request (RFC 3261 §11) ready to send."""
    target_host = f"[{host}]" if ":" in host else host
    local_host = f"[{local[0]}]" if ":" in local[0] else local[0]
    uri = f"sip:{user + '@' if user else ''}{target_host}:{port}"
    via = f"SIP/2.0/{transport.upper()} {local_host}:{local[1]};branch={branch};rport"
    lines = [
        f"OPTIONS {uri} SIP/2.0",
        f"Via: {via}",
        "Max-Forwards: 70",
        f"From: <sip:yunwei@{local_host}>;tag={tag}",
        f"To: <{uri}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 OPTIONS",
        f"Contact: <sip:yunwei@{local_host}:{local[1]}>",
        "Accept: application/sdp",
        "User-Agent: yunwei-probe/0.1",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _ids() -> tuple[str, str, str]:
    token = os.urandom(10).hex()
    return f"{token}@yunwei", f"z9hG4bK{token}", token[:10]


def _result(target: Target, response: SipResponse, rtt: float, started: float, attempts: int) -> Sample:
    metrics = {"status": float(response.status), "rtt_seconds": rtt, "attempts": float(attempts)}
    info = {"reason": response.reason}
    if response.agent:
        info["user_agent"] = response.agent
    return target.sample(True, ts=started, metrics=metrics, info={k: v for k, v in info.items() if v})


class _UdpEndpoint(asyncio.DatagramProtocol):
    """One UDP socket for a round: answers are routed to waiting probes by Call-ID."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[str, asyncio.Queue[tuple[float, bytes]]] = {}
        self.by_source: dict[tuple[str, int], str] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        now = time.perf_counter()
        call_id = None
        with contextlib.suppress(SipParseError):
            call_id = parse_response(data).header("call-id")
        if call_id is None:  # garbage: hand it to whoever probes that source, so it can say so
            call_id = self.by_source.get((addr[0], addr[1]))
        queue = self.waiting.get(call_id or "")
        if queue is not None:
            with contextlib.suppress(asyncio.QueueFull):  # a flood of answers: the rest are dropped
                queue.put_nowait((now, data))

    def error_received(self, exc: Exception) -> None:  # ICMP errors on an unconnected socket: ignored
        pass


@register
class SipCollector(Collector):
    """SIP OPTIONS over UDP/TCP: any SIP answer = the terminal's SIP stack is alive."""

    name = "sip"
    metrics = (
        STATUS,
        RTT,
        MetricSpec("attempts", help="OPTIONS requests sent before an answer (UDP retransmissions)"),
        REFUSED,
    )
    Options = SipOptions
    sample_config = "sip:\n  transport: udp\n  port: 5060\n  timeout: 3\n"

    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        udp = [t for t in targets if t.options.transport == "udp"]
        tcp = [t for t in targets if t.options.transport == "tcp"]
        results: list[Sample] = []
        jobs = []
        if udp:
            jobs.append(self._collect_udp(udp))
        if tcp:
            jobs.append(self._collect_tcp(tcp))
        for batch in await asyncio.gather(*jobs):
            results.extend(batch)
        return results

    # -- UDP ----------------------------------------------------------------------------------

    async def _collect_udp(self, targets: Sequence[Target]) -> list[Sample]:
        loop = asyncio.get_running_loop()
        endpoints: dict[int, tuple[asyncio.DatagramTransport, _UdpEndpoint]] = {}
        local_ips: dict[str, str] = {}
        try:

            async def endpoint_for(family: int) -> tuple[asyncio.DatagramTransport, _UdpEndpoint]:
                if family not in endpoints:
                    bind = "::" if family == socket.AF_INET6 else "0.0.0.0"
                    transport, protocol = await loop.create_datagram_endpoint(
                        _UdpEndpoint, local_addr=(bind, 0), family=family
                    )
                    endpoints[family] = (transport, protocol)  # type: ignore[assignment]
                return endpoints[family]

            async def one(target: Target) -> Sample:
                started = time.time()
                options: SipOptions = target.options
                host = target.address
                if not host:
                    return target.failure("no address", ts=started)
                literal = _ip_literal(host)
                if literal is not None:  # the usual case: no resolver round trip through a thread
                    family, sockaddr = literal[0], (literal[1], options.port)
                else:
                    try:
                        infos = await loop.getaddrinfo(host, options.port, type=socket.SOCK_DGRAM)
                    except OSError as exc:
                        return target.failure(f"cannot resolve {host}: {describe_exception(exc)}", ts=started)
                    family, _, _, _, sockaddr = infos[0]
                transport, protocol = await endpoint_for(family)
                local_port = transport.get_extra_info("sockname")[1]
                if sockaddr[0] not in local_ips:
                    local_ips[sockaddr[0]] = _source_ip(family, sockaddr)
                return await self._udp_exchange(
                    target, transport, protocol, sockaddr, (local_ips[sockaddr[0]], local_port), started
                )

            return list(await asyncio.gather(*(one(t) for t in targets)))
        finally:
            for transport, _ in endpoints.values():
                transport.close()

    async def _udp_exchange(
        self,
        target: Target,
        transport: asyncio.DatagramTransport,
        protocol: _UdpEndpoint,
        sockaddr: tuple[Any, ...],
        local: tuple[str, int],
        started: float,
    ) -> Sample:
        options: SipOptions = target.options
        call_id, branch, tag = _ids()
        request = build_options(sockaddr[0], options.port, "udp", local, call_id, branch, tag, options.user)
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=UDP_QUEUE)
        protocol.waiting[call_id] = queue
        source = (sockaddr[0], sockaddr[1])
        protocol.by_source.setdefault(source, call_id)
        first = time.perf_counter()
        deadline = first + options.timeout
        interval = T1
        attempts = 0
        provisional: tuple[SipResponse, float] | None = None
        try:
            while True:
                now = time.perf_counter()
                if now >= deadline:
                    break
                if provisional is None:  # a 1xx stops retransmission (RFC 3261 §17.1.2.2, simplified)
                    try:
                        transport.sendto(request, sockaddr)
                    except OSError as exc:
                        return target.failure(f"{describe_exception(exc)} (udp port {options.port})", ts=started)
                    attempts += 1
                wait_until = min(deadline, time.perf_counter() + interval)
                interval = min(interval * 2, T2)
                while (remaining := wait_until - time.perf_counter()) > 0:
                    try:
                        received_at, data = await asyncio.wait_for(queue.get(), remaining)
                    except TimeoutError:
                        break
                    try:
                        response = parse_response(data)
                    except SipParseError as exc:
                        return target.failure(str(exc), ts=started, metrics={"attempts": float(attempts)})
                    if response.status < 200:
                        provisional = provisional or (response, received_at - first)
                        continue
                    return _result(target, response, received_at - first, started, attempts)
        finally:
            protocol.waiting.pop(call_id, None)
            if protocol.by_source.get(source) == call_id:
                protocol.by_source.pop(source, None)
        if provisional is not None:
            return _result(target, provisional[0], provisional[1], started, attempts)
        return target.failure(
            f"no SIP answer within {options.timeout:g} s (udp port {options.port}, {attempts} sent)",
            ts=started,
            metrics={"attempts": float(attempts)},
        )

    # -- TCP ----------------------------------------------------------------------------------

    async def _collect_tcp(self, targets: Sequence[Target]) -> list[Sample]:
        semaphore = asyncio.Semaphore(TCP_CONCURRENCY)

        async def one(target: Target) -> Sample:
            async with semaphore:
                started = time.time()
                options: SipOptions = target.options
                try:
                    return await asyncio.wait_for(self._tcp_exchange(target, started), options.timeout)
                except TimeoutError:
                    return target.failure(f"no SIP answer within {options.timeout:g} s (tcp port {options.port})", ts=started)

        return list(await asyncio.gather(*(one(t) for t in targets)))

    async def _tcp_exchange(self, target: Target, started: float) -> Sample:
        options: SipOptions = target.options
        host = target.address
        if not host:
            return target.failure("no address", ts=started)
        clock = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(host, options.port)
        except ConnectionRefusedError:
            return target.failure(f"connection refused (tcp port {options.port})", ts=started, metrics={"refused": 1.0})
        except OSError as exc:
            return target.failure(f"{describe_exception(exc)} (tcp port {options.port})", ts=started)
        try:
            sock = writer.get_extra_info("sockname")
            call_id, branch, tag = _ids()
            writer.write(build_options(host, options.port, "tcp", (sock[0], sock[1]), call_id, branch, tag, options.user))
            await writer.drain()
            provisional: SipResponse | None = None
            provisional_rtt = 0.0
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as exc:
                    if provisional is not None:
                        return _result(target, provisional, provisional_rtt, started, 1)
                    if exc.partial:
                        try:
                            parse_response(exc.partial)
                        except SipParseError as parse_error:
                            return target.failure(str(parse_error), ts=started)
                    return target.failure("connection closed without a SIP answer", ts=started)
                except asyncio.LimitOverrunError:
                    return target.failure("not a SIP answer (no end of headers)", ts=started)
                rtt = time.perf_counter() - clock
                try:
                    response = parse_response(head)
                except SipParseError as exc:
                    return target.failure(str(exc), ts=started)
                length = response.header("content-length")
                if length and length.isdigit() and int(length):
                    await reader.readexactly(min(int(length), MAX_MESSAGE))
                if response.status >= 200:
                    return _result(target, response, rtt, started, 1)
                provisional, provisional_rtt = provisional or response, provisional_rtt or rtt
        except (ConnectionResetError, BrokenPipeError) as exc:
            return target.failure(describe_exception(exc), ts=started)
        finally:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--tcp", action="store_true", help="SIP over TCP (default UDP)")
        parser.add_argument("--port", type=int, default=5060, help="SIP port (default 5060)")
        parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        return {"transport": "tcp" if args.tcp else "udp", "port": args.port, "timeout": args.timeout}


def _ip_literal(host: str) -> tuple[int, str] | None:
    """(family, address) when ``host`` is an IP address, else None."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return (socket.AF_INET6 if address.version == 6 else socket.AF_INET), str(address)


def _source_ip(family: int, sockaddr: tuple[Any, ...]) -> str:
    """The local address the kernel would send from to ``sockaddr`` (no packet is sent)."""
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(sockaddr)
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1" if family == socket.AF_INET else "::1"
