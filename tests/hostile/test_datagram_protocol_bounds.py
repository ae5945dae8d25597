"""Hostile SNMP agents and SIP phones over UDP: garbage, BER with huge length fields, truncated
PDUs, floods of answers and a walk that never ends cost one device its own sample, never the
round's time or the process's memory.

The agents are asyncio datagram endpoints on 127.0.0.1 in a thread of their own; each round
also holds a healthy agent that must still get its sample. Bounds in docs/bounds.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from bounds_support import peak_rss_growth

from cli.commands.probe import build_target
from collectors._snmp import ber
from collectors._snmp.ber_responder import Request, decode_request, encode_response
from collectors.sip import SipCollector
from collectors.snmp import SnmpCollector
from inventory.models import Target

PROBE_TIMEOUT = 1.0
MARGIN = 2.0
MEMORY_BOUND_MIB = 40
RAW_EXCEPTION = re.compile(r"^[A-Z][a-z]+[A-Z]\w*\b")
WALKED = (1, 3, 6, 1, 4, 1, 99999, 1)  # the column a user OID walks

Answer = Callable[[bytes], list[bytes]]


class UdpPeer(asyncio.DatagramProtocol):
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        assert self.transport is not None
        for reply in self.answer(data):
            self.transport.sendto(reply, addr)


@contextlib.contextmanager
def udp_peers(answers: dict[str, Answer]) -> Iterator[dict[str, int]]:
    loop = asyncio.new_event_loop()
    ports: dict[str, int] = {}
    transports: list[asyncio.BaseTransport] = []

    async def start() -> None:
        for name, answer in answers.items():
            transport, _ = await loop.create_datagram_endpoint(lambda a=answer: UdpPeer(a), local_addr=("127.0.0.1", 0))
            transports.append(transport)
            ports[name] = transport.get_extra_info("sockname")[1]

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    try:
        yield ports
    finally:
        for transport in transports:
            loop.call_soon_threadsafe(transport.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


# -- SNMP ------------------------------------------------------------------------------------


def _value(oid: ber.Oid) -> tuple[int, Any]:
    if oid == (1, 3, 6, 1, 2, 1, 1, 3, 0):
        return ber.TIMETICKS, 123456
    if oid == (1, 3, 6, 1, 2, 1, 1, 2, 0):
        return ber.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 99999)
    if oid[:8] == (1, 3, 6, 1, 2, 1, 1, 1) or oid[:8] == (1, 3, 6, 1, 2, 1, 1, 5):
        return ber.OCTET_STRING, b"hostile-test"
    return ber.NO_SUCH_OBJECT, None


def snmp_answer(request: Request, varbinds: list[ber.VarBind]) -> bytes:
    return encode_response(request.version, request.community, request.request_id, varbinds)


def healthy_agent(data: bytes) -> list[bytes]:
    request = decode_request(data)
    if request.pdu_type == ber.GET:
        return [snmp_answer(request, [ber.VarBind(oid, *_value(oid)) for oid in request.oids])]
    # a walk: a short column of three rows, then the end
    varbinds = []
    for oid in request.oids:
        row = next_row(oid)
        varbinds.append(ber.VarBind(WALKED + (row,), ber.INTEGER, 40) if row <= 3 else ber.VarBind(oid, ber.END_OF_MIB_VIEW, None))
    return [snmp_answer(request, varbinds)]


def next_row(oid: ber.Oid) -> int:
    return oid[len(WALKED)] + 1 if oid[: len(WALKED)] == WALKED and len(oid) > len(WALKED) else 1


def endless_walk_of(tag: int, value: Any) -> Answer:
    """System GETs answered; every walk step answered with the next row holding ``value``."""

    def answer(data: bytes) -> list[bytes]:
        request = decode_request(data)
        if request.pdu_type == ber.GET:
            return healthy_agent(data)
        return [snmp_answer(request, [ber.VarBind(WALKED + (next_row(request.oids[0]),), tag, value)])]

    return answer


endless_walk = endless_walk_of(ber.OCTET_STRING, b"w" * 60000)  # 60 KB of text a row
endless_small_walk = endless_walk_of(ber.INTEGER, 7)  # within every byte bound


def huge_length(data: bytes) -> list[bytes]:
    """A SEQUENCE that claims 2^32-1 bytes, and a varbind value claiming 2 GB, with the right request-id."""
    request = decode_request(data)
    good = snmp_answer(request, [ber.VarBind(request.oids[0], ber.OCTET_STRING, b"abc")])
    return [b"\x30\x84\xff\xff\xff\xff" + good[2:], good.replace(b"\x04\x03abc", b"\x04\x84\x7f\xff\xff\xffabc")]


def truncated(data: bytes) -> list[bytes]:
    request = decode_request(data)
    good = snmp_answer(request, [ber.VarBind(oid, *_value(oid)) for oid in request.oids])
    return [good[: len(good) // 2], good[:-3]]


def garbage(_: bytes) -> list[bytes]:
    return [b"\x00\xff" * 700, b"", b"\x30\x80\x30\x80\x30\x80"]


def flood(data: bytes) -> list[bytes]:
    """Two hundred copies of a wrong answer (another request-id) per request, then the truth."""
    request = decode_request(data)
    wrong = encode_response(request.version, request.community, request.request_id ^ 0x5A5A, [])
    return [wrong] * 200 + healthy_agent(data)


SNMP_HOSTILE: dict[str, Answer] = {
    "endless-walk": endless_walk,
    "huge-length": huge_length,
    "truncated": truncated,
    "garbage": garbage,
}


def snmp_options(port: int) -> dict[str, Any]:
    return {
        "version": "2c",
        "community": "public",
        "port": port,
        "timeout": PROBE_TIMEOUT,
        "retries": 0,
        "oids": [{"name": "load", "oid": ".".join(map(str, WALKED)), "walk": "max"}],
    }


async def test_hostile_snmp_agents_cost_their_own_timeout_and_bounded_memory() -> None:
    answers = {**SNMP_HOSTILE, "flood-then-healthy": flood, "healthy": healthy_agent}
    with udp_peers(answers) as ports:
        order = list(ports)
        targets = [build_target("snmp", "127.0.0.1", snmp_options(ports[name])) for name in order]
        collector = SnmpCollector()
        with peak_rss_growth() as growth:
            started = time.monotonic()
            samples = await collector.collect(targets)
            elapsed = time.monotonic() - started
        await collector.close()
    by_agent = dict(zip(order, samples, strict=True))
    for name in ("healthy", "flood-then-healthy"):
        assert by_agent[name].ok, f"{name}: {by_agent[name].error}"
        assert by_agent[name].metrics.get("load") == 40, by_agent[name].metrics
    for name in SNMP_HOSTILE:
        sample = by_agent[name]
        shown = sample.error or sample.info.get("problems")
        assert shown and not RAW_EXCEPTION.match(shown), f"{name}: {sample.error} {sample.info}"
    print(f"snmp: {elapsed:.2f} s, peak RSS growth {growth.mib:.1f} MiB; "
          + "; ".join(f"{n}: {s.error or s.info.get('problems')}" for n, s in by_agent.items()))
    assert "cut at" in (by_agent["endless-walk"].info.get("problems") or "") or by_agent["endless-walk"].error
    assert elapsed < PROBE_TIMEOUT + MARGIN, f"the round took {elapsed:.1f} s"
    assert growth.mib < MEMORY_BOUND_MIB, f"peak RSS rose {growth.mib:.0f} MiB"


async def test_an_endless_walk_of_small_values_ends_with_the_rounds_interval() -> None:
    interval = 2.0
    with udp_peers({"endless": endless_small_walk, "healthy": healthy_agent}) as ports:
        targets = [build_target("snmp", "127.0.0.1", snmp_options(ports[name])) for name in ("endless", "healthy")]
        targets = [Target(t.device, t.probe.model_copy(update={"interval": interval})) for t in targets]
        collector = SnmpCollector()
        started = time.monotonic()
        endless, healthy = await collector.collect(targets)
        elapsed = time.monotonic() - started
        await collector.close()
    assert healthy.ok and healthy.metrics.get("load") == 40, healthy.error
    assert not endless.ok and endless.error == f"poll not finished within the round's interval ({interval:g} s)"
    assert elapsed < interval + MARGIN, f"the round took {elapsed:.1f} s"


# -- SIP over UDP ----------------------------------------------------------------------------


def _sip_reply(data: bytes, status: bytes = b"200 OK") -> bytes:
    call_id = re.search(rb"Call-ID: *([^\r\n]+)", data)
    via = re.search(rb"Via: *([^\r\n]+)", data)
    return (b"SIP/2.0 " + status + b"\r\nVia: " + (via.group(1) if via else b"") + b"\r\nCall-ID: "
            + (call_id.group(1) if call_id else b"x") + b"\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")


SIP_HOSTILE: dict[str, Answer] = {
    "garbage": lambda data: [b"\x00\xff not sip \x80" * 100],
    "provisional-flood": lambda data: [_sip_reply(data, b"100 Trying")] * 500,
    "oversized": lambda data: [_sip_reply(data).replace(b"Content-Length: 0", b"X-Pad: " + b"p" * 60000 + b"\r\nContent-Length: 0")[:65000]],
    "silent": lambda data: [],
}


async def test_hostile_sip_phones_over_udp_end_in_the_timeout_and_the_healthy_phone_answers() -> None:
    answers = {**SIP_HOSTILE, "healthy": lambda data: [_sip_reply(data)]}
    with udp_peers(answers) as ports:
        order = list(ports)
        targets = [build_target("sip", "127.0.0.1", {"port": ports[name], "timeout": PROBE_TIMEOUT}) for name in order]
        with peak_rss_growth() as growth:
            started = time.monotonic()
            samples = await SipCollector().collect(targets)
            elapsed = time.monotonic() - started
    by_phone = dict(zip(order, samples, strict=True))
    assert by_phone["healthy"].ok, by_phone["healthy"].error
    assert not by_phone["garbage"].ok and by_phone["garbage"].error.startswith("not a SIP answer")
    assert not by_phone["silent"].ok and by_phone["silent"].error.startswith("no SIP answer within")
    print(f"sip-udp: {elapsed:.2f} s, peak RSS growth {growth.mib:.1f} MiB; "
          + "; ".join(f"{n}: {s.ok} {s.error}" for n, s in by_phone.items()))
    assert elapsed < PROBE_TIMEOUT + MARGIN, f"the round took {elapsed:.1f} s"
    assert growth.mib < MEMORY_BOUND_MIB, f"peak RSS rose {growth.mib:.0f} MiB"

