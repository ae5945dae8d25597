"""The trap receiver against net-snmp's snmptrap/snmpinform: every version, INFORMs answered,
wrong credentials counted and dropped, and no datagram, however broken, stops it."""

from __future__ import annotations

import asyncio
import socket

from hypothesis import given, settings
from hypothesis import strategies as st
from receivers_support import COMMUNITY, LINK_DOWN, V3, send, snmptrap_argv, traps_config

from collectors._snmp import ber, notify
from collectors._snmp.ber_responder import encode_value
from core.events import Event
from receivers.config import TrapsConfig
from receivers.trap_meanings import Context
from receivers.traps import TrapReceiver

UPS_ON_BATTERY = ("", "1.3.6.1.2.1.33.2.1", "1.3.6.1.2.1.33.1.2.3.0", "i", "42", "1.3.6.1.2.1.33.1.2.2.0", "i", "12")


async def _receiver(**extra: object) -> tuple[TrapReceiver, list[Event], int]:
    events: list[Event] = []
    context = Context("zh", lambda device, index: {("core-sw", 1): "GigabitEthernet0/0/1"}.get((device, index)))
    receiver = TrapReceiver(TrapsConfig.model_validate(traps_config(**extra)), events.append,
                            resolve={"127.0.0.1": "core-sw"}.get, context=context)
    _, port = await receiver.start()
    return receiver, events, port


async def _wait(events: list[Event], count: int) -> None:
    for _ in range(100):
        if len(events) >= count:
            return
        await asyncio.sleep(0.02)


async def test_v1_v2c_and_v3_traps_become_events_with_their_meaning(tmp_path):
    receiver, events, port = await _receiver()
    try:
        v1 = snmptrap_argv(port, "1.3.6.1.4.1.8072", "127.0.0.1", "2", "0", "", "1.3.6.1.2.1.2.2.1.1.1", "i", "1", version="1")
        assert (await send(v1, tmp_path)).returncode == 0
        assert (await send(snmptrap_argv(port, *LINK_DOWN), tmp_path)).returncode == 0
        assert (await send(snmptrap_argv(port, *UPS_ON_BATTERY, version="3"), tmp_path)).returncode == 0
        await _wait(events, 3)
    finally:
        receiver.close()
    v1_event, v2_event, v3_event = events
    for event in (v1_event, v2_event):
        assert (event.name, event.hint, event.device) == ("linkDown", "down", "core-sw")
        assert event.subject == "GigabitEthernet0/0/1"  # ifIndex 1 named as the poller knows it
        assert event.metric == "if.GigabitEthernet0/0/1.oper_up" and event.value == 0
        assert event.text == "GigabitEthernet0/0/1 链路中断"
    assert v2_event.varbinds["1.3.6.1.2.1.2.2.1.8.1"] == "2"
    assert (v3_event.name, v3_event.subject, v3_event.metric, v3_event.value) == ("upsTrapOnBattery", "on_battery", "on_battery", 1.0)
    assert v3_event.confirm is False and "42 分钟" in v3_event.text
    assert receiver.stats.events == 3 and not receiver.stats.rejected


async def test_informs_are_answered_v2c_and_v3(tmp_path):
    receiver, events, port = await _receiver()
    try:
        v2 = await send(snmptrap_argv(port, "", "1.3.6.1.6.3.1.1.5.1", inform=True), tmp_path)
        v3 = await send(snmptrap_argv(port, "", "1.3.6.1.6.3.1.1.5.2", version="3", inform=True), tmp_path)
    finally:
        receiver.close()
    assert v2.returncode == 0, v2.stderr  # snmpinform exits 0 only when the Response came back
    assert v3.returncode == 0, v3.stderr
    assert [e.name for e in events] == ["coldStart", "warmStart"]
    assert events[0].text == "设备重启"


async def test_wrong_community_and_wrong_v3_keys_are_counted_and_dropped(tmp_path):
    receiver, events, port = await _receiver()
    try:
        await send(snmptrap_argv(port, *LINK_DOWN, community="guess"), tmp_path)
        await send(snmptrap_argv(port, *LINK_DOWN, version="3", auth_key="wrong-auth-key"), tmp_path)
        await send(snmptrap_argv(port, *LINK_DOWN, version="3", priv_key="wrong-priv-key"), tmp_path)
        await send(snmptrap_argv(port, *LINK_DOWN), tmp_path)  # still listening, and right ones pass
        await _wait(events, 1)
        await asyncio.sleep(0.1)
    finally:
        receiver.close()
    assert len(events) == 1
    assert receiver.stats.rejected == {"wrong community": 1, "wrong v3 auth key": 1, "wrong v3 privacy key": 1}


def test_a_replayed_v3_trap_is_refused():
    receiver, _ = _bare_receiver()
    # the same sender engine's clock going back by more than 150 s (or its boots going back) is a replay
    assert receiver._fresh(b"\x80\x01", 3, 1000) and receiver._fresh(b"\x80\x01", 3, 900)
    assert not receiver._fresh(b"\x80\x01", 3, 800) and not receiver._fresh(b"\x80\x01", 2, 5000)
    assert receiver._fresh(b"\x80\x01", 4, 0)


def _trap(community: bytes = COMMUNITY.encode(), request_id: int = 7) -> bytes:
    link_down = [ber.VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 1), ber.INTEGER, 1)]
    return notify.community_trap(community, (1, 3, 6, 1, 6, 3, 1, 1, 5, 3), link_down, 100, request_id)


def _bare_receiver() -> tuple[TrapReceiver, list[Event]]:
    events: list[Event] = []
    config = TrapsConfig.model_validate(traps_config(rate_per_source=1e9, burst=10**9))
    return TrapReceiver(config, events.append), events


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_never_raises_and_is_counted(data):
    receiver, events = _bare_receiver()
    reply = receiver.handle(data, ("127.0.0.9", 1))
    assert reply is None and receiver.stats.received == 1
    assert receiver.stats.malformed + receiver.stats.rejected.total() + len(events) == 1


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(_trap()) - 1), st.binary(max_size=8))
def test_truncated_or_corrupted_ber_is_malformed_not_a_crash(cut, noise):
    receiver, events = _bare_receiver()
    receiver.handle(_trap()[:cut] + noise, ("127.0.0.9", 1))
    assert receiver.stats.malformed + receiver.stats.rejected.total() + receiver.stats.events == 1


async def test_oversized_and_garbage_datagrams_do_not_stall_the_socket(tmp_path):
    receiver, events, port = await _receiver()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"\x30" * 9000, ("127.0.0.1", port))
            sock.sendto(b"\x30\x84\xff\xff\xff\xff\x02\x01", ("127.0.0.1", port))
            sock.sendto(_trap()[:20], ("127.0.0.1", port))
            sock.sendto(_trap(), ("127.0.0.1", port))
        await _wait(events, 1)
    finally:
        receiver.close()
    assert len(events) == 1 and receiver.stats.oversized == 1 and receiver.stats.malformed == 2


async def test_a_config_rule_maps_an_enterprise_trap_with_varbind_conditions(tmp_path):
    rules = [{"oid": "1.3.6.1.4.1.99999.0.1", "when": {"1.3.6.1.4.1.99999.1": "/^(3|4)$/"}, "name": "doorOpen",
              "hint": "down", "subject": "door", "level": 2, "text": "机房门打开 (传感器 {2})"}]
    receiver, events, port = await _receiver(rules=rules)
    try:
        for value in ("1", "3"):
            argv = snmptrap_argv(port, "", "1.3.6.1.4.1.99999.0.1", "1.3.6.1.4.1.99999.1.0", "i", value,
                                 "1.3.6.1.4.1.99999.2.0", "s", "A-01")
            await send(argv, tmp_path)
        await _wait(events, 2)
    finally:
        receiver.close()
    plain, door = events
    assert plain.name == "1.3.6.1.4.1.99999.0.1" and plain.hint is None  # no rule matched: stored, no meaning
    assert (door.name, door.hint, door.level, door.text) == ("doorOpen", "down", 2, "机房门打开 (传感器 A-01)")


def test_a_v3_user_limited_to_engine_ids_refuses_other_senders(tmp_path):
    async def run() -> TrapReceiver:
        users = [{**V3, "engine_ids": ["0x80000000aabbccdd"]}]
        receiver, events, port = await _receiver(v3_users=users)
        try:
            await send(snmptrap_argv(port, *LINK_DOWN, version="3"), tmp_path)  # sent with engine 0x8000000001020304
            await asyncio.sleep(0.2)
        finally:
            receiver.close()
        assert events == []
        return receiver

    receiver = asyncio.run(run())
    assert receiver.stats.rejected == {"v3 engine id not allowed for user": 1}


VALUES = st.one_of(
    st.builds(lambda v: (ber.INTEGER, v), st.integers(-(2**31), 2**31 - 1)),
    st.builds(lambda v: (ber.OCTET_STRING, v), st.binary(max_size=40)),
    st.builds(lambda v: (ber.OBJECT_IDENTIFIER, v), st.lists(st.integers(0, 2**20), min_size=2, max_size=14).map(lambda a: (1, 3, *a))),
    st.builds(lambda v: (ber.TIMETICKS, v), st.integers(0, 2**32 - 1)),
    st.just((ber.NULL, None)),
)
PREFIXES = [(1, 3, 6, 1, 2, 1, 2, 2, 1), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1), (1, 3, 6, 1, 2, 1, 33, 1, 6, 2, 1),
            (1, 3, 6, 1, 2, 1, 33, 1, 7), (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1), (1, 3, 6, 1, 4, 1, 9)]
TRAP_OIDS = [(1, 3, 6, 1, 6, 3, 1, 1, 5, n) for n in range(1, 7)] + [(1, 3, 6, 1, 2, 1, 33, 2, n) for n in range(1, 5)] + [
    (1, 3, 6, 1, 4, 1, 2011, 5, 25, 219, 2, 5, 3), (1, 3, 6, 1, 4, 1, 25506, 2, 6, 2, 0, 16), (1, 3, 6, 1, 4, 1, 2011, 5, 25, 41, 3, 5)]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(TRAP_OIDS),
    st.lists(st.tuples(st.sampled_from(PREFIXES), st.lists(st.integers(0, 300), max_size=3), VALUES), max_size=6),
)
def test_every_well_formed_trap_becomes_exactly_one_event_whatever_its_varbinds(trap_oid, varbinds):
    receiver, events = _bare_receiver()
    body = [ber.VarBind((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0), ber.OBJECT_IDENTIFIER, trap_oid)]
    body += [ber.VarBind((*prefix, *suffix), tag, value) for prefix, suffix, (tag, value) in varbinds]
    encoded = b"".join(ber.tlv(ber.SEQUENCE, ber.encode_oid(v.oid) + encode_value(v.tag, v.value)) for v in body)
    pdu = ber.tlv(0xA7, ber.encode_int(9) + ber.encode_int(0) + ber.encode_int(0) + ber.tlv(ber.SEQUENCE, encoded))
    receiver.handle(ber.tlv(ber.SEQUENCE, ber.encode_int(1) + ber.tlv(ber.OCTET_STRING, COMMUNITY.encode()) + pdu), ("127.0.0.9", 1))
    assert len(events) == 1 and receiver.stats.malformed == 0
    assert isinstance(events[0].text, str) and events[0].oid == ".".join(map(str, trap_oid))


async def test_huawei_and_h3c_traps_have_their_meaning(tmp_path):
    receiver, events, port = await _receiver()
    try:
        flow_down = ("", "1.3.6.1.4.1.2011.5.25.41.3.5", "1.3.6.1.4.1.2011.5.25.41.1.1.1.1.8.7", "i", "2",
                     "1.3.6.1.2.1.31.1.1.1.1.7", "s", "GigabitEthernet0/0/7")
        fan = ("", "1.3.6.1.4.1.2011.5.25.219.2.6.3", "1.3.6.1.2.1.47.1.1.1.1.7.16842753", "s", "FAN 1")
        h3c = ("", "1.3.6.1.4.1.25506.2.6.2.0.16", "1.3.6.1.2.1.47.1.1.1.1.7.30", "s", "PSU 2")
        for trap in (flow_down, fan, h3c):
            assert (await send(snmptrap_argv(port, *trap), tmp_path)).returncode == 0
        await _wait(events, 3)
    finally:
        receiver.close()
    assert [(e.name, e.hint, e.subject) for e in events] == [
        ("hwIfFlowDown", "down", "GigabitEthernet0/0/7"),
        ("hwFanFail", "down", "fan FAN 1"),
        ("hh3cEntityExtFaultAlarmOn", "down", "entity PSU 2"),
    ]
    assert events[1].text == "FAN 1 风扇故障"
