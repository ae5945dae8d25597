"""Dependencies and blast radius: one fault per cause, children suppressed into their parent."""

from __future__ import annotations

import pytest
from alerting_support import (
    ROUTE_ALL,
    WEBHOOK_CHANNEL,
    camera_fleet,
    down,
    feed,
    ledger_faults,
    outbox,
    text_of,
    up,
)

from core.errors import InputError
from core.model import State

BLAST = {
    "channels": WEBHOOK_CHANNEL,
    "routes": ROUTE_ALL,
    "rules": [{"offline_ratio_min": 0.2, "level": 2}, {"kinds": "camera", "level": 3}],
}


def test_300_cameras_behind_a_dead_line_make_one_level_2_fault(build, clock):
    service, store = build(camera_fleet(300, BLAST))
    t = clock.now
    # confirmed within seconds by re-probes; the hold counts from the first failed sample
    transitions = [down("line-1", t - 12)] + [down(f"cam-{i:03d}", t - 8) for i in range(300)]
    assert feed(service, store, transitions, t) == 0  # held: a parent may show up a round later
    clock.advance(31)
    service.tick()
    faults = service.faults.active()
    assert [(f.device, f.level) for f in faults] == [("line-1", 2)]
    line = faults[0]
    assert len(line.affected) == 300
    assert line.opened == t - 12  # dated from the outage, not from when the hold expired
    rows = outbox(store)
    assert len(rows) == 1, [r["body"]["title"] for r in rows]
    assert rows[0]["kind"] == "open"
    assert "300 路摄像机不可达" in rows[0]["body"]["title"]
    assert rows[0]["body"]["level"] == 2
    assert "蓝天卫士摄像机 0.0%" in rows[0]["body"]["text"]  # the group's online rate is gone
    # the ledger: one fault body, the cameras' downtime untouched (300 down transitions stay)
    bodies = ledger_faults(store)
    assert list(bodies) == [f"fault:{line.id}"]
    assert bodies[f"fault:{line.id}"]["affected"] == 300
    assert sum(1 for tr in store.transitions() if tr.state == State.DOWN) == 301


def test_children_seen_before_their_parent_are_absorbed_not_alerted(build, clock):
    service, store = build(camera_fleet(50, BLAST))
    t = clock.now
    feed(service, store, [down(f"cam-{i:03d}", t - 6) for i in range(50)], t)
    clock.advance(10)
    feed(service, store, [down("line-1", t - 8)], clock.now)  # the line's round comes later
    clock.advance(40)
    service.tick()
    assert [f.device for f in service.faults.active()] == ["line-1"]
    assert [r["kind"] for r in outbox(store)] == ["open"]
    assert service.faults.active()[0].level == 2


def test_children_still_down_after_the_parent_recovers_get_their_own_faults(build, clock):
    service, store = build(camera_fleet(200, {**BLAST, "dependency_grace_seconds": 120, "storm": {"window_seconds": 300}}))
    t = clock.now
    feed(service, store, [down("line-1", t)] + [down(f"cam-{i:03d}", t) for i in range(40)], t)
    clock.advance(31)
    service.tick()
    line = service.faults.active()[0]
    clock.advance(600)
    recovered = [up("line-1", clock.now - 20)] + [up(f"cam-{i:03d}", clock.now - 10) for i in range(35)]
    feed(service, store, recovered, clock.now)
    assert service.faults.get(line.id).state == "resolved"
    assert service.faults.get(line.id).resolved == clock.now - 20
    assert service.faults.active() == []  # grace: the children may just be slower to come back
    clock.advance(119)
    service.tick()
    assert service.faults.active() == []
    clock.advance(2)
    service.tick()
    still_down = sorted(f.device for f in service.faults.active())
    assert still_down == [f"cam-{i:03d}" for i in range(35, 40)]
    assert all(f.level == 3 for f in service.faults.active())
    rows = outbox(store)
    kinds = [r["kind"] for r in rows]
    # line open, line recovered ("已恢复, 持续 …"), then the 5 cameras in one storm message
    assert kinds == ["open", "resolved", "open"], kinds
    assert "已恢复" in rows[1]["body"]["title"] and "持续 10 分钟" in rows[1]["body"]["title"]
    assert rows[2]["body"]["title"] == "【三级故障】蓝天卫士摄像机: 5 路摄像机离线"
    for index in range(35, 40):
        assert f"东门-{index:03d}" in rows[2]["body"]["text"]


def test_a_chain_counts_every_device_behind_the_top_fault(build, clock):
    service, store = build(camera_fleet(20, BLAST, with_switch=True))
    t = clock.now
    feed(service, store, [down("line-1", t), down("sw-1", t)] + [down(f"cam-{i:03d}", t) for i in range(20)], t)
    clock.advance(31)
    service.tick()
    faults = service.faults.active()
    assert [f.device for f in faults] == ["line-1"]
    assert len(faults[0].affected) == 21
    title = outbox(store)[0]["body"]["title"]
    assert "20 路摄像机、1 台交换机不可达" in title, title


def test_switch_down_under_a_healthy_line_is_its_own_fault(build, clock):
    service, store = build(camera_fleet(10, BLAST, with_switch=True))
    t = clock.now
    feed(service, store, [down("sw-1", t)] + [down(f"cam-{i:03d}", t) for i in range(10)], t)
    clock.advance(31)
    service.tick()
    faults = service.faults.active()
    assert [(f.device, len(f.affected), f.level) for f in faults] == [("sw-1", 10, 2)]
    assert "雪亮" not in text_of(outbox(store)[0])
    assert "蓝天卫士 汇聚交换机 中断, 10 路摄像机不可达" in outbox(store)[0]["body"]["title"]


def test_affected_growing_escalates_the_level_and_deadlines(build, clock):
    config = camera_fleet(100, {**BLAST, "rules": [{"offline_ratio_min": 0.5, "level": 1}, {"kinds": "line", "level": 3}]})
    service, store = build(config)
    t = clock.now
    feed(service, store, [down("line-1", t)] + [down(f"cam-{i:03d}", t) for i in range(10)], t)
    clock.advance(31)
    service.tick()
    line = service.faults.active()[0]
    assert line.level == 3 and line.respond_by == t + 20 * 60
    clock.advance(60)
    feed(service, store, [down(f"cam-{i:03d}", clock.now - 30) for i in range(10, 60)], clock.now)
    line = service.faults.get(line.id)
    assert line.level == 1
    assert (line.respond_by, line.resolve_by) == (t + 10 * 60, t + 120 * 60)  # from when it opened
    kinds = [r["kind"] for r in outbox(store)]
    assert kinds == ["open", "escalated"]
    assert "升级为一级故障" in outbox(store)[1]["body"]["title"]


def test_group_fault_absorbs_members_down_on_their_own(build, clock):
    config = camera_fleet(50, {**BLAST, "group_faults": {"offline_ratio": 0.2, "min_devices": 3}})
    for device in config["devices"]:
        device.pop("parent", None)
    service, store = build(config)
    t = clock.now
    feed(service, store, [up(f"cam-{i:03d}", t - 60) for i in range(50)], t - 60)  # seen up: counted in the rate
    feed(service, store, [down(f"cam-{i:03d}", t) for i in range(12)], t)
    clock.advance(31)
    service.tick()
    faults = service.faults.active()
    assert [(f.source, f.group, f.level, len(f.affected)) for f in faults] == [("group", "lantian-cams", 2, 12)]
    assert "蓝天卫士摄像机 在线率低于阈值, 12 路摄像机不可达" in outbox(store)[0]["body"]["title"]
    assert "在线率 76.0% (阈值 95%)" in faults[0].cause
    # back above: the group fault resolves; the two still down get their own faults after the grace
    clock.advance(300)
    feed(service, store, [up(f"cam-{i:03d}", clock.now) for i in range(10)], clock.now)
    assert service.faults.active() == []
    clock.advance(121)
    service.tick()
    assert sorted(f.device for f in service.faults.active()) == ["cam-010", "cam-011"]


def test_online_rate_under_threshold_is_a_group_fault_even_when_few_are_down(build, clock):
    config = camera_fleet(50, {**BLAST})
    for device in config["devices"]:
        device.pop("parent", None)
    service, store = build(config)
    t = clock.now
    feed(service, store, [up(f"cam-{i:03d}", t - 60) for i in range(50)], t - 60)
    feed(service, store, [down(f"cam-{i:03d}", t) for i in range(3)], t)  # 94 % < 95 %
    clock.advance(31)
    service.tick()
    faults = service.faults.active()
    assert [(f.source, len(f.affected)) for f in faults] == [("group", 3)]
    assert "在线率低于阈值" in outbox(store)[0]["body"]["title"]


def test_children_left_down_that_break_the_online_rate_make_a_group_fault_after_the_grace(build, clock):
    service, store = build(camera_fleet(40, {**BLAST, "dependency_grace_seconds": 120}))
    t = clock.now
    feed(service, store, [down("line-1", t)] + [down(f"cam-{i:03d}", t) for i in range(40)], t)
    clock.advance(31)
    service.tick()
    clock.advance(600)
    feed(service, store, [up("line-1", clock.now)] + [up(f"cam-{i:03d}", clock.now) for i in range(35)], clock.now)
    clock.advance(119)
    service.tick()
    assert service.faults.active() == []
    clock.advance(31)  # grace over, then the group's own hold
    service.tick()
    clock.advance(31)
    service.tick()
    faults = service.faults.active()
    assert [(f.source, len(f.affected)) for f in faults] == [("group", 5)]
    assert "87.5%" in faults[0].cause


def test_a_group_close_to_its_threshold_is_warned_once(build, clock):
    config = camera_fleet(50, {**BLAST})
    config["groups"][0]["online_rate"]["warn_margin"] = 0.02
    for device in config["devices"]:
        device.pop("parent", None)
    service, store = build(config)
    t = clock.now
    feed(service, store, [up(f"cam-{i:03d}", t - 60) for i in range(50)], t - 60)  # seen up: counted in the rate
    feed(service, store, [down("cam-000", t), down("cam-001", t)], t)  # 96 %: above 95 %, within the margin
    service.tick()
    clock.advance(31)
    service.tick()
    warnings = [r for r in outbox(store) if r["kind"] == "warn"]
    assert [w["body"]["title"] for w in warnings] == ["【预警】蓝天卫士摄像机 在线率 96.0%, 接近阈值 95%"]
    feed(service, store, [up("cam-000", clock.now)], clock.now)  # 98 %: clear
    feed(service, store, [down("cam-000", clock.now + 60)], clock.now + 60)  # within the margin again
    assert len([r for r in outbox(store) if r["kind"] == "warn"]) == 2


def test_references_to_unknown_groups_are_refused_at_load(build):
    config = camera_fleet(3, {**BLAST, "routes": [{"channels": ["ops"], "groups": ["no-such-group"]}]})
    with pytest.raises(InputError) as caught:
        build(config)
    assert any(
        p.field == "alerting.routes.0.groups" and p.message == "'no-such-group' is not in the inventory"
        for p in caught.value.problems
    ), caught.value
