"""SIP OPTIONS collector against kamailio and sipp on loopback, and recorded terminal answers."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from peers import free_port
from video_helpers import make_target, probe_once

from collectors.sip import SipCollector, SipParseError, parse_response

DATA = Path(__file__).parent.parent / "data" / "sip"


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_kamailio_answers_options(kamailio: int, transport: str) -> None:
    sample = await probe_once("sip", make_target("sip", "127.0.0.1", port=kamailio, transport=transport))
    assert sample.ok, sample.error
    assert sample.metrics["status"] == 200
    assert sample.info["reason"] == "OK"
    assert sample.info["user_agent"].startswith("kamailio (5.")
    assert 0 < sample.metrics["rtt_seconds"] < 0.5
    assert sample.metrics["attempts"] == 1


async def test_one_round_of_many_terminals_over_one_udp_socket(kamailio: int) -> None:
    targets = [make_target("sip", "127.0.0.1", port=kamailio) for _ in range(200)]
    targets = [type(t)(device=t.device.model_copy(update={"id": f"vc-{i}"}), probe=t.probe) for i, t in enumerate(targets)]
    clock = time.monotonic()
    samples = await SipCollector().collect(targets)
    elapsed = time.monotonic() - clock
    assert sorted(s.device for s in samples) == sorted(f"vc-{i}" for i in range(200))
    assert all(s.ok and s.metrics["status"] == 200 for s in samples), [s.error for s in samples if not s.ok][:3]
    assert elapsed < 2.0  # each answer is matched to its terminal by Call-ID, none waits for a timeout


async def test_delayed_answer_rtt_is_measured(sipp_uas) -> None:
    port = sipp_uas(delay_ms=300)
    sample = await probe_once("sip", make_target("sip", "127.0.0.1", port=port, timeout=3))
    assert sample.ok, sample.error
    assert sample.metrics["status"] == 200
    assert 0.28 <= sample.metrics["rtt_seconds"] < 1.0  # generous upper bound: a loaded CI machine
    if sample.metrics["rtt_seconds"] < 0.5:
        assert sample.metrics["attempts"] == 1  # answered before the first retransmission
    assert sample.info["user_agent"] == "sipp-uas 200"


async def test_slow_busy_terminal_is_alive_after_a_retransmission(sipp_uas) -> None:
    """A 486 after 1.2 s: alive (any SIP answer), RTT from the first send, one retransmission."""
    port = sipp_uas(delay_ms=1200, status=486)
    sample = await probe_once("sip", make_target("sip", "127.0.0.1", port=port, timeout=3))
    assert sample.ok, sample.error
    assert sample.metrics["status"] == 486
    assert 1.15 <= sample.metrics["rtt_seconds"] < 2.5  # measured from the first send, not the resend
    if sample.metrics["rtt_seconds"] < 1.5:
        assert sample.metrics["attempts"] == 2  # sent at 0 s and 0.5 s; answered before the 1.5 s resend


async def test_terminal_that_drops_options_is_down(sipp_uas) -> None:
    port = sipp_uas(drop=True)
    clock = time.monotonic()
    sample = await probe_once("sip", make_target("sip", "127.0.0.1", port=port, timeout=1.6))
    assert time.monotonic() - clock < 2.2
    assert not sample.ok
    assert sample.error == f"no SIP answer within 1.6 s (udp port {port}, 3 sent)"
    assert sample.metrics["attempts"] == 3


async def test_sipp_over_tcp(sipp_uas) -> None:
    port = sipp_uas(delay_ms=200, status=200, transport="tcp")
    sample = await probe_once("sip", make_target("sip", "127.0.0.1", port=port, transport="tcp", timeout=3))
    assert sample.ok, sample.error
    assert 0.18 <= sample.metrics["rtt_seconds"] < 1.0


async def test_tcp_silence_times_out(sipp_uas) -> None:
    port = sipp_uas(drop=True, transport="tcp")
    sample = await probe_once("sip", make_target("sip", "127.0.0.1", port=port, transport="tcp", timeout=0.8))
    assert not sample.ok
    assert sample.error == f"no SIP answer within 0.8 s (tcp port {port})"


async def test_closed_ports() -> None:
    port = free_port()
    tcp = await probe_once("sip", make_target("sip", "127.0.0.1", port=port, transport="tcp", timeout=1))
    udp = await probe_once("sip", make_target("sip", "127.0.0.1", port=port, transport="udp", timeout=0.6))
    assert not tcp.ok and tcp.error == f"connection refused (tcp port {port})"
    assert not udp.ok and udp.error == f"no SIP answer within 0.6 s (udp port {port}, 2 sent)"


class _Replayer(asyncio.DatagramProtocol):
    """Answers each OPTIONS with a recorded terminal response, filled in from the request."""

    def __init__(self, template: str | bytes) -> None:
        self.template = template
        self.transport: asyncio.DatagramTransport | None = None
        self.requests: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        text = data.decode()
        self.requests.append(text)
        if isinstance(self.template, bytes):
            answer = self.template
        else:
            headers = dict(line.split(": ", 1) for line in text.split("\r\n")[1:] if ": " in line)
            answer = self.template.format(
                via=headers["Via"], to=headers["To"], call_id=headers["Call-ID"], cseq=headers["CSeq"], **{"from": headers["From"]}
            ).encode()
        assert self.transport is not None
        self.transport.sendto(answer, addr)


EXPECTED = json.loads((DATA / "expected.json").read_text())


@pytest.mark.parametrize("recording", sorted(EXPECTED))
async def test_recorded_terminal_answers(recording: str) -> None:
    template = (DATA / recording).read_text().replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    loop = asyncio.get_running_loop()
    transport, replayer = await loop.create_datagram_endpoint(lambda: _Replayer(template), local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        sample = await probe_once("sip", make_target("sip", "127.0.0.1", port=port, timeout=2, user="8001"))
    finally:
        transport.close()
    assert sample.ok, sample.error
    assert sample.metrics["status"] == EXPECTED[recording]["status"]
    assert sample.info["user_agent"] == EXPECTED[recording]["user_agent"]
    request = replayer.requests[0]
    assert request.startswith(f"OPTIONS sip:8001@127.0.0.1:{port} SIP/2.0\r\n")
    assert ";rport" in request and "CSeq: 1 OPTIONS" in request


async def test_garbage_from_the_terminal_is_named() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Replayer(b"HTTP/1.1 400 Bad Request\r\n\r\n"), local_addr=("127.0.0.1", 0)
    )
    try:
        port = transport.get_extra_info("sockname")[1]
        sample = await probe_once("sip", make_target("sip", "127.0.0.1", port=port, timeout=2))
    finally:
        transport.close()
    assert not sample.ok
    assert sample.error == "not a SIP answer: 'HTTP/1.1 400 Bad Request'"


def test_parser_handles_compact_and_folded_headers() -> None:
    huawei = parse_response((DATA / "huawei-te40.txt").read_bytes())
    assert huawei.header("call-id") == "{call_id}"  # compact "i:" understood
    assert huawei.header("content-length") == "0"
    assert huawei.agent == "Huawei TE40 V600R019C00SPC200"  # Server: when there is no User-Agent
    polycom = parse_response((DATA / "polycom-hdx8000.txt").read_bytes())
    assert polycom.header("allow") == "INVITE,BYE,CANCEL,ACK,INFO,PRACK,COMET,OPTIONS,SUBSCRIBE,NOTIFY,MESSAGE,REFER, REGISTER,UPDATE"
    with pytest.raises(SipParseError):
        parse_response(b"SIP/2.0 OK\r\n\r\n")
