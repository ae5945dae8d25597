"""The syslog receiver against util-linux's logger (UDP, TCP, RFC 3164/5424, octet counting),
vendor lines written from their published formats, GBK, and broken input."""

from __future__ import annotations

import asyncio
import socket

from hypothesis import example, given, settings
from hypothesis import strategies as st
from peers import need_binary

from core.events import Event
from receivers.config import SyslogConfig
from receivers.syslog import SyslogReceiver
from receivers.syslog_parse import parse

HUAWEI = "<187>Dec  7 2026 09:12:13 CORE-SW %%01IFNET/4/LINK_STATE(l)[1]:The line protocol IP on the interface GigabitEthernet0/0/1 has entered the DOWN state."
H3C = "<188>Dec  7 09:12:13 2026 H3C %%10IFNET/3/PHY_UPDOWN: Physical state on the interface GigabitEthernet1/0/1 changed to down."
CISCO = "<187>123: *Mar  1 18:46:11: %LINK-3-UPDOWN: Interface FastEthernet0/0, changed state to up"


async def _receiver(**extra: object) -> tuple[SyslogReceiver, list[Event], int]:
    events: list[Event] = []
    config = SyslogConfig.model_validate({"listen": "127.0.0.1:0", **extra})
    receiver = SyslogReceiver(config, events.append, resolve={"127.0.0.1": "core-sw"}.get)
    _, port = await receiver.start()
    return receiver, events, port


async def _wait(events: list[Event], count: int) -> None:
    for _ in range(150):
        if len(events) >= count:
            return
        await asyncio.sleep(0.02)


async def _logger(port: int, *args: str) -> int:
    logger = need_binary("logger")
    process = await asyncio.create_subprocess_exec(logger, "--server", "127.0.0.1", "--port", str(port), "-t", "ywtest", *args)
    return await asyncio.wait_for(process.wait(), 10)


async def test_logger_over_udp_and_tcp_in_both_formats():
    receiver, events, port = await _receiver()
    try:
        variants = [("-d", "--rfc3164"), ("-d", "--rfc5424"), ("-T", "--rfc3164"), ("-T", "--rfc5424"), ("-T", "--octet-count", "--rfc5424")]
        for index, flags in enumerate(variants):
            assert await _logger(port, *flags, f"消息 {index} 运维") == 0
        await _wait(events, len(variants))
    finally:
        receiver.close()
    assert sorted(e.message for e in events) == [f"消息 {i} 运维" for i in range(len(variants))]
    assert {(e.oid, e.device, e.severity, e.kind) for e in events} == {("ywtest", "core-sw", 5, "syslog")}


async def test_vendor_interface_lines_become_interface_events_and_gbk_is_read():
    receiver, events, port = await _receiver()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for line in (HUAWEI.encode(), H3C.encode(), CISCO.encode(), "<13>Dec  7 09:12:13 pc 考勤: 门禁 刷卡失败".encode("gbk")):
                sock.sendto(line, ("127.0.0.1", port))
        await _wait(events, 4)
    finally:
        receiver.close()
    huawei, h3c, cisco, gbk = events
    assert (huawei.name, huawei.hint, huawei.subject, huawei.metric) == ("LINK_STATE", "down", "GigabitEthernet0/0/1", "if.GigabitEthernet0/0/1.oper_up")
    assert (h3c.name, h3c.hint, h3c.subject) == ("PHY_UPDOWN", "down", "GigabitEthernet1/0/1")
    assert (cisco.name, cisco.hint, cisco.subject, cisco.value) == ("LINK-UPDOWN", "up", "FastEthernet0/0", 1.0)
    assert huawei.text == "GigabitEthernet0/0/1 链路中断"
    assert (gbk.oid, gbk.message) == ("考勤", "门禁 刷卡失败")


async def test_config_rules_match_program_and_message_with_named_groups():
    rules = [{"program": "^sshd$", "match": r"Failed password for (?P<user>\S+)", "name": "sshFail", "level": 4,
              "text": "SSH 登录失败: {user}"}]
    receiver, events, port = await _receiver(rules=rules)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"<38>Dec  7 09:12:13 srv sshd[811]: Failed password for root from 10.0.0.9", ("127.0.0.1", port))
            sock.sendto(b"<38>Dec  7 09:12:13 srv other: Failed password for root from 10.0.0.9", ("127.0.0.1", port))
        await _wait(events, 2)
    finally:
        receiver.close()
    assert [(e.name, e.level, e.text) for e in events] == [("sshFail", 4, "SSH 登录失败: root"), ("other", None, "")]


async def test_tcp_framing_long_lines_and_invalid_utf8_stay_bounded():
    receiver, events, port = await _receiver(max_line=512)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"<13>first \xff\xfe\xc3 line\n")  # invalid in UTF-8 and in GB18030
        writer.write(b"22 <13>octet counted one!")  # "LEN SP MSG" with no newline
        writer.write(b"<13>" + b"x" * 100_000 + b"\n")  # far longer than max_line, one message, cut
        writer.write(b"<13>after the long one\n")
        await writer.drain()
        await _wait(events, 4)
        writer.close()
    finally:
        receiver.close()
    messages = [e.message for e in events]
    assert messages[0].startswith("first ") and "line" in messages[0]
    assert messages[1] == "octet counted one!"
    assert len(messages[2]) <= 512 and messages[2].startswith("xxx")
    assert messages[3] == "after the long one"
    assert receiver.stats.oversized == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_parse_to_a_message(data):
    parsed = parse(data)
    assert isinstance(parsed.message, str) and isinstance(parsed.program, str)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
@example(b"1234567890 digits with no length and no newline")  # once looped forever
@example(b"99999999 " + b"x" * 50)
def test_any_bytes_on_tcp_framing_never_raise(data):
    events: list[Event] = []
    receiver = SyslogReceiver(SyslogConfig.model_validate({"listen": "127.0.0.1:0", "rate_per_source": 1e9, "burst": 10**9}), events.append)
    from receivers.syslog import _Stream

    stream = _Stream(receiver)
    for start in range(0, len(data), 7):
        stream.data_received(data[start : start + 7])
    stream.connection_lost(None)
    assert len(stream.buffer) == 0


async def test_a_chatty_source_is_rate_limited_and_counted_while_others_pass(caplog):
    receiver, events, port = await _receiver(rate_per_source=5, burst=5)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as chatty, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
            chatty.bind(("127.0.0.2", 0))
            quiet.bind(("127.0.0.3", 0))
            for index in range(200):
                chatty.sendto(f"<13>Dec  7 09:12:13 h app: line {index}".encode(), ("127.0.0.1", port))
            quiet.sendto(b"<13>Dec  7 09:12:13 h app: the quiet one", ("127.0.0.1", port))
        await _wait(events, 1000)  # whatever comes within the wait
    finally:
        receiver.close()
    chatty_events = [e for e in events if e.source == "127.0.0.2"]
    assert 5 <= len(chatty_events) <= 8
    assert [e.message for e in events if e.source == "127.0.0.3"] == ["the quiet one"]
    assert receiver.stats.rate_limited == 200 - len(chatty_events)
    assert sum("127.0.0.2 sends more than 5 syslog messages/s" in r.getMessage() for r in caplog.records) == 1  # said once
