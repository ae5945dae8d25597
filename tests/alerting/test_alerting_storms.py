"""Storms: grouped into few messages at once, never a backlog that delays the chat for minutes."""

from __future__ import annotations

import re

import pytest
from alerting_platforms import Platform
from alerting_support import ROUTE_ALL, WEBHOOK_CHANNEL, down, feed, outbox, up

UNITS = [{"id": "fgw", "name": "市发改委"}]
SYSTEMS = [{"id": "net", "name": "电子政务外网", "unit": "fgw"}]


def servers(count: int, grouped: bool) -> list[dict]:
    return [
        {"id": f"srv-{i:02d}", "name": f"服务器{i:02d}", "kind": "server", "address": f"10.0.0.{i + 1}", "unit": "fgw",
         "system": "net", **({"group": f"g{i:02d}"} if grouped else {})}
        for i in range(count)
    ]


def fleet(count: int, level: int, grouped: bool = False, channels: dict | None = None, **alerting) -> dict:
    groups = [{"id": f"g{i:02d}", "name": f"机房{i:02d}", "unit": "fgw", "system": "net"} for i in range(count)] if grouped else []
    return {
        "units": UNITS,
        "systems": SYSTEMS,
        "groups": groups,
        "defaults": {"probes": {"tcp": {"port": 22}}},
        "devices": servers(count, grouped),
        "alerting": {
            "hold_seconds": 0,
            "rules": [{"kinds": "server", "level": level}],
            "group_faults": {"enabled": False},
            "channels": channels or WEBHOOK_CHANNEL,
            "routes": ROUTE_ALL,
            **alerting,
        },
    }


def one_room(count: int) -> dict:
    """``count`` level-3 servers in one group (机房)."""
    config = fleet(count, 3)
    for device in config["devices"]:
        device["group"] = "room"
    config["groups"] = [{"id": "room", "name": "机房", "unit": "fgw", "system": "net"}]
    return config


def titles(store) -> list[str]:
    return [row["body"]["title"] for row in outbox(store)]


def test_level_3_faults_of_one_group_the_first_at_once_the_rest_together_after_the_window(build, clock):
    service, store = build(one_room(4))
    t = clock.now
    feed(service, store, [down("srv-00", t)], t)
    assert titles(store) == ["【三级故障】电子政务外网 服务器00 中断"]
    feed(service, store, [down("srv-01", t + 10), down("srv-02", t + 10)], t + 10)
    feed(service, store, [down("srv-03", t + 60)], t + 60)
    clock.now = t + 119
    service.tick()
    assert len(titles(store)) == 1  # held for the rest of the 2-minute window
    clock.now = t + 120
    service.tick()
    assert titles(store)[1] == "【三级故障】机房: 3 台服务器中断"
    assert [f"服务器0{i}" in outbox(store)[1]["body"]["text"] for i in (1, 2, 3)] == [True] * 3


def test_level_2_faults_at_the_same_moment_are_one_message_without_waiting(build, clock):
    service, store = build(fleet(12, 2))
    t = clock.now
    feed(service, store, [down(f"srv-{i:02d}", t) for i in range(12)], t)
    rows = outbox(store)
    assert [r["kind"] for r in rows] == ["open"]
    assert rows[0]["body"]["title"] == "【二级故障】电子政务外网: 12 台服务器中断"
    assert len(rows[0]["body"]["faults"]) == 12
    clock.now = t + 300  # 50 % of the 10-minute response window: one reminder for the twelve
    service.tick()
    assert [r["kind"] for r in outbox(store)] == ["open", "reminder"]
    assert outbox(store)[1]["body"]["title"] == "【提醒】12 个故障临近时限"


def test_a_single_fault_is_still_its_own_message(build, clock):
    service, store = build(fleet(2, 2))
    feed(service, store, [down("srv-00", clock.now)], clock.now)
    assert titles(store) == ["【二级故障】电子政务外网 服务器00 中断"]


@pytest.fixture
def dingtalk():
    platform = Platform("dingtalk", "SECstorm").start()
    yield platform
    platform.stop()


def test_a_storm_over_many_groups_fits_the_robots_minute_and_names_every_fault_once(build, clock, dingtalk):
    channel = {"ops": {"type": "dingtalk", "url": dingtalk.url, "secret": "SECstorm"}}
    service, store = build(fleet(45, 3, grouped=True, channels=channel))
    t = clock.now
    feed(service, store, [down(f"srv-{i:02d}", t) for i in range(45)], t)
    rows = outbox(store)
    assert len(rows) == 20  # DingTalk takes 20 a minute: 19 groups on their own, the other 26 in one message
    assert rows[-1]["body"]["markdown"]["title"] == "【三级故障】电子政务外网: 26 台服务器中断"
    assert service.outbox.deliver_due() == 20  # all of it now, nothing waits for the next minute
    named = re.findall(r"F-\d{8}-\d{4}", " ".join(body["markdown"]["text"] for body in dingtalk.accepted))
    assert sorted(named) == sorted(f.id for f in service.faults.active())  # each fault exactly once
    # the next minute's budget is spent: 45 recoveries in the same minute become one message
    clock.advance(30)
    feed(service, store, [up(f"srv-{i:02d}", clock.now) for i in range(45)], clock.now)
    recoveries = outbox(store, "pending")
    assert [r["body"]["markdown"]["title"] for r in recoveries] == ["【已恢复】电子政务外网 45 个故障已恢复"]
    assert service.outbox.deliver_due() == 0  # 20 attempts in the last 60 s: the robot's limit holds
    clock.advance(30.1)
    assert service.outbox.deliver_due() == 1


def test_a_recovery_never_overtakes_its_held_opening(build, clock):
    service, store = build(one_room(2))
    t = clock.now
    feed(service, store, [down("srv-00", t)], t)  # the group's first: at once
    feed(service, store, [down("srv-01", t + 10)], t + 10)  # held for the window
    feed(service, store, [up("srv-01", t + 20)], t + 20)  # back before its opening was posted
    assert [r["kind"] for r in outbox(store)] == ["open"]
    clock.now = t + 120
    service.tick()
    fault = outbox(store)[1]["body"]["faults"][0]
    assert [(r["kind"], r["thread"]) for r in outbox(store)][1:] == [("open", fault), ("resolved", fault)]  # one thread
    assert outbox(store)[2]["body"]["title"] == "【已恢复】电子政务外网 服务器01, 持续 10 秒"


def test_a_mixed_storm_is_titled_by_its_worst_level_and_each_line_has_its_own_level_and_deadlines(build, clock):
    config = fleet(4, 3)
    config["devices"][0]["role"] = "core"
    config["alerting"]["rules"] = [{"roles": "core", "level": 2}, {"kinds": "server", "level": 3}]
    service, store = build(config)
    t = clock.now
    feed(service, store, [down(f"srv-{i:02d}", t) for i in range(4)], t)
    clock.now = t + 120
    service.tick()
    bodies = [row["body"] for row in outbox(store)]
    storm = next(b for b in bodies if "4 台服务器" in b["title"] or len(b.get("faults", [])) > 1)
    assert storm["title"].startswith("【二级故障】")
    lines = [line for line in storm["text"].splitlines() if line.startswith("- F-")]
    assert len(lines) == 4
    assert "【二级故障】 **电子政务外网 服务器00** 中断" in lines[0] and "响应时限 09:10" in lines[0]
    assert all("【三级故障】" in line and "响应时限 09:20" in line for line in lines[1:])
    for line in lines:
        assert line.count("服务器0") == 1  # the subject is said once, not again as the cause
