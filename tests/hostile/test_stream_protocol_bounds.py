"""Hostile RTSP, NUT, SIP-over-TCP and ONVIF peers cost one probe's timeout and bounded memory.

Each protocol gets one round against several hostile peers at once (garbage, an answer cut
short, a line that never ends, endless lines, a huge declared length followed by an endless
stream, an answer trickled a byte at a time) and one healthy peer. The round ends within the
probe timeout plus a margin, the healthy peer gets its sample, every hostile one gets an error
an engineer can read (never a raw exception name), and the test process's peak memory rises by
less than MEMORY_BOUND_MIB (see docs/bounds.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bounds_support import Handler, HostileServer, peak_rss_growth, trickle_bytes

from cli.commands.probe import build_target
from collectors.base import Collector
from collectors.onvif import OnvifCollector
from collectors.rtsp import RtspCollector
from collectors.sip import SipCollector
from collectors.ups import UpsCollector

PROBE_TIMEOUT = 2.0
MARGIN = 1.5  # scheduling on a shared two-core machine, and closing sockets
MEMORY_BOUND_MIB = 40
BLOCK = b"x" * 65536
RAW_EXCEPTION = re.compile(r"^[A-Z][a-z]+[A-Z]\w*\b")  # "ValueError: ...", "AnswerTooLarge: ..."

Reader = Callable[[asyncio.StreamReader], Awaitable[None]]


async def read_head(reader: asyncio.StreamReader) -> None:
    """An RTSP, SIP or HTTP request head."""
    with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        await reader.readuntil(b"\r\n\r\n")


async def read_line(reader: asyncio.StreamReader) -> None:
    """A NUT command."""
    await reader.readline()


async def stream_forever(writer: asyncio.StreamWriter, block: bytes = BLOCK) -> None:
    while True:
        writer.write(block)
        await writer.drain()


def cut_short(read: Reader, start: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read(reader)
        writer.write(start)
        await writer.drain()

    return handler


def garbage(read: Reader) -> Handler:
    return cut_short(read, b"\x00\xff\x13\x37 not the protocol \x80\x81\r\n\r\n")


def endless_line(read: Reader, start: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read(reader)
        writer.write(start)
        await stream_forever(writer)

    return handler


def endless_lines(read: Reader, start: bytes, line: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read(reader)
        writer.write(start)
        await stream_forever(writer, line * max(1, 65536 // len(line)))

    return handler


def trickle(read: Reader, answer: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read(reader)
        await trickle_bytes(writer, answer * 100, 0.2)

    return handler


def answer_with(read: Reader, answer: Callable[[bytes], bytes]) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = b""
        with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            request = await reader.readuntil(b"\r\n\r\n") if read is read_head else await reader.readline()
        if read is read_head and b"Content-Length:" in request:
            length = int(request.split(b"Content-Length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
        writer.write(answer(request))
        await writer.drain()
        await asyncio.sleep(0.1)

    return handler


def _cseq(request: bytes) -> bytes:
    found = re.search(rb"CSeq: *([^\r\n]+)", request)
    return found.group(1) if found else b"1"


def _sip_ok(request: bytes) -> bytes:
    via = re.search(rb"Via: *([^\r\n]+)", request)
    call_id = re.search(rb"Call-ID: *([^\r\n]+)", request)
    return (
        b"SIP/2.0 200 OK\r\nVia: " + (via.group(1) if via else b"") + b"\r\nCall-ID: "
        + (call_id.group(1) if call_id else b"x") + b"\r\nCSeq: " + _cseq(request)
        + b"\r\nUser-Agent: healthy-phone\r\nContent-Length: 0\r\n\r\n"
    )


ONVIF_TIME = (Path(__file__).parent.parent / "data/onvif/hikvision-ds-2cd2t47g2/GetSystemDateAndTime.xml").read_bytes()


def _onvif_ok(_: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: %d\r\n\r\n" % len(ONVIF_TIME) + ONVIF_TIME


NUT_OK = b'BEGIN LIST VAR ups\nVAR ups ups.status "OL"\nVAR ups battery.charge "100"\nVAR ups battery.runtime "3600"\nEND LIST VAR ups\n'


@dataclass
class Protocol:
    collector: Callable[[], Collector]
    options: Callable[[int], dict[str, Any]]
    hostile: dict[str, Handler]
    healthy: Handler


def _http_hostile() -> dict[str, Handler]:
    return {
        "garbage": garbage(read_head),
        "cut-short": cut_short(read_head, b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n<s:Env"),
        "endless-line": endless_line(read_head, b"HTTP/1.1 200 OK\r\nX-Long: "),
        "endless-lines": endless_lines(read_head, b"HTTP/1.1 200 OK\r\n", b"X-Filler: 1\r\n"),
        "chunk-bomb": endless_line(read_head, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n"),
        "trickle": trickle(read_head, _onvif_ok(b"")),
    }


PROTOCOLS: dict[str, Protocol] = {
    "rtsp": Protocol(
        RtspCollector,
        lambda port: {"port": port, "timeout": PROBE_TIMEOUT, "describe": False},
        {
            "garbage": garbage(read_head),
            "cut-short": cut_short(read_head, b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 900\r\n\r\nv=0"),
            "endless-line": endless_line(read_head, b"RTSP/1.0 200 OK\r\nServer: "),
            "endless-lines": endless_lines(read_head, b"RTSP/1.0 200 OK\r\n", b"X-Filler: " + b"y" * 60000 + b"\r\n"),
            "huge-length": endless_line(read_head, b"RTSP/1.0 454 Session Not Found\r\nCSeq: 1\r\nContent-Length: 1000000000000000000\r\n\r\n"),
            "trickle": trickle(read_head, b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n"),
        },
        answer_with(read_head, lambda request: b"RTSP/1.0 200 OK\r\nCSeq: " + _cseq(request) + b"\r\nPublic: OPTIONS\r\n\r\n"),
    ),
    "nut": Protocol(
        UpsCollector,
        lambda port: {"source": "nut", "nut_ups": "ups", "nut_port": port, "timeout": PROBE_TIMEOUT, "retries": 0},
        {
            "garbage": garbage(read_line),
            "cut-short": cut_short(read_line, b'BEGIN LIST VAR ups\nVAR ups ups.status "O'),
            "endless-line": endless_line(read_line, b"BEGIN LIST VAR ups\nVAR ups ups.status \""),
            "endless-lines": endless_lines(read_line, b"BEGIN LIST VAR ups\n", b'VAR ups x.y "z"\n'),
            "endless-begin": endless_line(read_line, b""),
            "trickle": trickle(read_line, NUT_OK),
        },
        answer_with(read_line, lambda _: NUT_OK),
    ),
    "sip-tcp": Protocol(
        SipCollector,
        lambda port: {"transport": "tcp", "port": port, "timeout": PROBE_TIMEOUT},
        {
            "garbage": garbage(read_head),
            "cut-short": cut_short(read_head, b"SIP/2.0 200 OK\r\nCall-ID: x\r\n"),
            "endless-line": endless_line(read_head, b"SIP/2.0 200 OK\r\nUser-Agent: "),
            "provisional-flood": endless_lines(read_head, b"", b"SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n"),
            "huge-length": endless_line(read_head, b"SIP/2.0 100 Trying\r\nContent-Length: 1000000000000000000\r\n\r\n"),
            "trickle": trickle(read_head, b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"),
        },
        answer_with(read_head, _sip_ok),
    ),
    "onvif": Protocol(
        OnvifCollector,
        lambda port: {"port": port, "timeout": PROBE_TIMEOUT, "max_clock_drift": 10**9},
        _http_hostile(),
        answer_with(read_head, _onvif_ok),
    ),
}


@contextlib.contextmanager
def servers(handlers: dict[str, Handler]) -> Iterator[dict[str, int]]:
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(HostileServer(handler)).port for name, handler in handlers.items()}


@pytest.mark.parametrize("name", list(PROTOCOLS))
async def test_hostile_peers_cost_one_timeout_and_bounded_memory_and_the_healthy_peer_is_up(name: str) -> None:
    protocol = PROTOCOLS[name]
    handlers = {**protocol.hostile, "healthy": protocol.healthy}
    with servers(handlers) as ports:
        order = list(ports)
        targets = [build_target(protocol.collector.name, "127.0.0.1", protocol.options(ports[peer])) for peer in order]
        collector = protocol.collector()
        with peak_rss_growth() as growth:
            started = time.monotonic()
            samples = await collector.collect(targets)
            elapsed = time.monotonic() - started
        await collector.close()
    assert len(samples) == len(targets), "one sample per target, hostile or not"
    by_peer = dict(zip(order, samples, strict=True))
    healthy = by_peer.pop("healthy")
    assert healthy.ok, f"{name} healthy peer: {healthy.error}"
    problems = {peer: s.error for peer, s in by_peer.items() if s.ok or not s.error or RAW_EXCEPTION.match(s.error)}
    assert not problems, f"{name}: hostile peers without a clear error: {problems}"
    print(f"{name}: {elapsed:.2f} s, peak RSS growth {growth.mib:.1f} MiB; " + "; ".join(f"{p}: {s.error}" for p, s in by_peer.items()))
    assert elapsed < PROBE_TIMEOUT + MARGIN, f"{name}: the round took {elapsed:.1f} s"
    assert growth.mib < MEMORY_BOUND_MIB, f"{name}: peak RSS rose {growth.mib:.0f} MiB"
