"""Lifecycle, deadlines, reminders, recurrence, manual work orders — with an injected clock."""

from __future__ import annotations

import pytest
from alerting_support import ROUTE_ALL, WEBHOOK_CHANNEL, down, feed, ledger_faults, outbox, up

from alerting import lifecycle
from core.errors import InputError

FLEET = {
    "units": [{"id": "fgw", "name": "市发改委"}],
    "systems": [{"id": "net", "name": "电子政务外网", "unit": "fgw"}, {"id": "vc", "name": "视频会议", "unit": "fgw"}],
    "defaults": {"probes": {"tcp": {"port": 22}}},
    "devices": [
        {"id": "core-1", "name": "核心交换机", "kind": "switch", "role": "core", "address": "10.0.0.1", "unit": "fgw", "system": "net"},
        {"id": "pc-1", "name": "办公电脑", "kind": "pc", "address": "10.0.0.2", "unit": "fgw", "system": "net"},
        {"id": "mcu-1", "name": "MCU", "kind": "mcu", "address": "10.0.0.3", "unit": "fgw", "system": "vc"},
    ],
}


def config(**alerting):
    return {**FLEET, "alerting": {"channels": WEBHOOK_CHANNEL, "routes": ROUTE_ALL, "hold_seconds": 0, **alerting}}


def kinds(store):
    return [(r["kind"], r["body"]["title"]) for r in outbox(store)]


def test_core_down_is_level_1_with_the_municipal_deadlines_and_reminders_fire_on_time(build, clock):
    service, store = build(config(rules=[{"roles": "core", "level": 1}]))
    t = clock.now
    feed(service, store, [down("core-1", t)], t)
    fault = service.faults.active()[0]
    assert (fault.level, fault.respond_by - t, fault.resolve_by - t) == (1, 600, 7200)
    assert [k for k, _ in kinds(store)] == ["open"]
    title = outbox(store)[0]["body"]["title"]
    assert title == "【一级故障】电子政务外网 核心交换机 中断"
    assert "响应时限**: 09:10 (10 分钟内)" in outbox(store)[0]["body"]["text"]
    assert "修复时限**: 11:00 (2 小时内)" in outbox(store)[0]["body"]["text"]

    def tick_at(offset):
        clock.now = t + offset
        service.tick()
        return [k for k, _ in kinds(store)]

    assert tick_at(299) == ["open"]
    assert tick_at(300) == ["open", "reminder"]  # 50 % of the 10-minute response window
    assert "距响应时限还有 5 分钟" in outbox(store)[-1]["body"]["title"]
    assert tick_at(479) == ["open", "reminder"]
    assert tick_at(480) == ["open", "reminder", "reminder"]  # 80 %
    assert tick_at(600) == ["open", "reminder", "reminder", "overdue"]
    assert "已超过响应时限" in outbox(store)[-1]["body"]["title"]
    assert tick_at(700) == ["open", "reminder", "reminder", "overdue"]  # once
    lifecycle.acknowledge(service.faults, fault.id, "张三", clock.now)
    assert tick_at(800)[-1] == "ack"
    assert outbox(store)[-1]["body"]["title"] == "【已响应】电子政务外网 核心交换机 — 张三"
    assert "超时" in outbox(store)[-1]["body"]["text"]  # answered after 11 minutes: late
    assert tick_at(3599)[-1] == "ack"
    assert tick_at(3600)[-1] == "reminder"  # 50 % of the 2-hour resolution window
    assert "距修复时限还有 1 小时" in outbox(store)[-1]["body"]["title"]
    assert tick_at(5760)[-1] == "reminder"  # 80 %
    assert len(outbox(store)) == 7
    assert tick_at(7200)[-1] == "overdue"
    assert "已超过修复时限" in outbox(store)[-1]["body"]["title"]
    feed(service, store, [up("core-1", t + 7300)], t + 7400)
    last = outbox(store)[-1]["body"]
    assert last["title"] == "【已恢复】电子政务外网 核心交换机, 持续 2 小时 2 分钟"
    assert "张三 用时 12 分钟 (超时)" in last["text"]  # 11 min 40 s
    body = ledger_faults(store)[f"fault:{fault.id}"]
    assert body["acknowledged"] == "2026-11-03T09:11:40+08:00"
    assert body["resolved"] == "2026-11-03T11:01:40+08:00"
    assert body["acknowledged_by"] == "张三" and body["resolved_how"] == "auto"


def test_a_restart_long_after_a_deadline_sends_one_overdue_not_every_missed_reminder(build, clock):
    service, store = build(config())
    t = clock.now
    feed(service, store, [down("pc-1", t)], t)
    clock.now = t + 3 * 3600  # the agent was stopped; now past the 20-minute response deadline
    service.tick()
    assert [k for k, _ in kinds(store)] == ["open", "overdue"]
    fault = service.faults.active()[0]
    assert set(fault.reminders) == {"respond:0.5", "respond:0.8", "respond:overdue"}


def test_level_profiles_give_another_contract_its_own_deadlines(build, clock):
    vc_levels = {1: {"respond_minutes": 15, "resolve_minutes": 120}, 2: {"respond_minutes": 30, "resolve_minutes": 120},
                 3: {"respond_minutes": 30, "resolve_minutes": 240}, 4: {"respond_minutes": 30, "resolve_minutes": 240}}
    service, store = build(config(level_profiles=[{"name": "VC", "systems": ["vc"], "levels": vc_levels}],
                                  rules=[{"kinds": "mcu", "level": 2}]))
    t = clock.now
    feed(service, store, [down("mcu-1", t), down("pc-1", t)], t)
    by_device = {f.device: f for f in service.faults.active()}
    assert (by_device["mcu-1"].respond_by - t, by_device["mcu-1"].resolve_by - t) == (1800, 7200)
    assert (by_device["pc-1"].respond_by - t, by_device["pc-1"].resolve_by - t) == (1200, 86400)


def test_recurrence_follows_the_calculators_rule_and_states_no_penalty(build, clock):
    """Only a fault someone fixed can recur (compliance's default ``recurring_after: fix``): a
    device that came back on its own was not an incomplete fix, so no 重复故障 is claimed."""
    service, store = build(config(recurring_days=7, flapping={"count": 10, "minutes": 30}))
    t = clock.now
    feed(service, store, [down("pc-1", t)], t)
    feed(service, store, [up("pc-1", t + 600)], t + 600)  # came back by itself
    clock.now = t + 86400
    feed(service, store, [down("pc-1", clock.now)], clock.now)
    again = service.faults.active()[0]
    assert again.recurring_of is None and "重复故障" not in outbox(store)[-1]["body"]["text"]
    lifecycle.resolve(service.faults, again.id, "李四", clock.now + 300, note="更换网线")  # fixed by hand
    feed(service, store, [up("pc-1", clock.now + 400)], clock.now + 400)
    clock.now = t + 3 * 86400
    feed(service, store, [down("pc-1", clock.now)], clock.now)
    third = service.faults.active()[0]
    assert third.recurring_of == again.id
    text = outbox(store)[-1]["body"]["text"]
    assert f"上次 {again.id} 已人工修复" in text and "处罚" not in text
    assert ledger_faults(store)[f"fault:{third.id}"]["recurring"] is True
    lifecycle.resolve(service.faults, third.id, "李四", clock.now + 60)
    feed(service, store, [up("pc-1", clock.now + 120)], clock.now + 120)
    clock.now = t + 20 * 86400  # outside the window
    feed(service, store, [down("pc-1", clock.now)], clock.now)
    assert service.faults.active()[0].recurring_of is None


def test_a_device_that_keeps_failing_keeps_one_fault(build, clock):
    service, store = build(config())
    t = clock.now
    feed(service, store, [down("pc-1", t)], t)
    for step in range(1, 25):
        clock.now = t + step * 60
        service.tick()
        feed(service, store, [], clock.now)
    assert len(service.faults.listing()) == 1
    assert [k for k, _ in kinds(store)] == ["open", "reminder", "reminder", "overdue"]


def test_manual_resolve_while_down_never_claims_a_recovery_and_reopens_after_the_debounce(build, clock):
    service, store = build(config())
    t = clock.now
    feed(service, store, [down("pc-1", t)], t)
    fault = service.faults.active()[0]
    lifecycle.resolve(service.faults, fault.id, "李四", t + 120, note="用户电脑已关机, 非故障")
    clock.now = t + 121
    service.tick()
    assert service.faults.active() == []
    assert service.faults.get(fault.id).resolved_how == "manual"
    message = outbox(store)[-1]["body"]
    assert message["title"] == "【人工关闭】电子政务外网 办公电脑 — 李四"
    assert "已恢复" not in message["title"] + message["text"] and "未响应" not in message["text"]
    assert "人工处理 (李四)" in message["text"] and "用户电脑已关机, 非故障" in message["text"]
    assert "仍未恢复" in message["text"]
    # still down after the debounce (3 failed samples of its 60 s probe): a new fault opens
    clock.now = t + 120 + 179
    feed(service, store, [], clock.now)
    assert service.faults.active() == []
    clock.now = t + 120 + 180
    feed(service, store, [], clock.now)
    reopened = service.faults.active()
    assert len(reopened) == 1 and reopened[0].opened == t + 300 and reopened[0].id != fault.id
    feed(service, store, [up("pc-1", t + 700)], t + 700)
    assert outbox(store)[-1]["body"]["title"].startswith("【已恢复】")  # this time the device came back
    feed(service, store, [down("pc-1", t + 800)], t + 800)  # a new outage opens a new fault
    assert len(service.faults.active()) == 1


def test_an_ack_from_the_cli_is_not_overwritten_by_the_daemon(build, clock, tmp_path):
    """The CLI writes through its own connection while the daemon holds a stale copy of the fault."""
    from store.db import Store
    from store.faults import FaultStore

    service, store = build({**FLEET, "devices": FLEET["devices"], "alerting": {"hold_seconds": 0}})
    t = clock.now
    feed(service, store, [down("core-1", t)], t)
    stale = service.faults.active()[0]
    cli = FaultStore(Store(store.path), "test", "Asia/Shanghai")
    lifecycle.acknowledge(cli, str(stale.seq), "王五", t + 60)
    # the daemon changes the same fault from its stale view (device recovers)
    service.engine._resolve(stale, t + 90, t + 100, "auto")
    fault = service.faults.get(stale.id)
    assert (fault.acknowledged_by, fault.acknowledged, fault.resolved_how) == ("王五", t + 60, "auto")
    history = [kind for _, kind, _, _ in service.faults.history(fault.id)]
    assert history == ["opened", "acknowledged", "resolved"]
    cli.store.close()


def test_lifecycle_refuses_what_makes_no_sense(build, clock):
    service, store = build(config())
    t = clock.now
    feed(service, store, [down("pc-1", t)], t)
    fault = service.faults.active()[0]
    lifecycle.acknowledge(service.faults, fault.id, "a", t + 10)
    with pytest.raises(InputError, match="already acknowledged by a"):
        lifecycle.acknowledge(service.faults, fault.id, "b", t + 20)
    with pytest.raises(InputError, match="only a resolved fault can be closed"):
        lifecycle.add_note(service.faults, fault.id, "done", "a", t + 30, close=True)
    with pytest.raises(InputError, match="no fault 'F-404'"):
        lifecycle.resolve(service.faults, "F-404", "a", t)
    lifecycle.resolve(service.faults, fault.id, "a", t + 40)
    closed = lifecycle.add_note(service.faults, fault.id, "更换网线后恢复", "a", t + 50, close=True)
    assert (closed.state, closed.closed, closed.note) == ("closed", t + 50, "更换网线后恢复")
    assert ledger_faults(store)[f"fault:{fault.id}"]["closed"] == "2026-11-03T09:00:50+08:00"


def test_a_work_order_gets_the_level_deadlines_and_is_announced(build, clock, make_inventory):
    service, store = build(config())
    order = lifecycle.open_manual(service.faults, service.inventory, 3, "用户电话报修: 打印机无法使用", "张三", clock.now, system="net")
    assert (order.level, order.unit, order.respond_by - clock.now) == (3, "fgw", 1200)
    service.tick()
    assert outbox(store)[-1]["body"]["title"] == "【三级故障】电子政务外网 用户电话报修: 打印机无法使用"
    with pytest.raises(InputError, match="unknown device 'nope'"):
        lifecycle.open_manual(service.faults, service.inventory, 3, "x", "a", clock.now, device="nope")


def test_english_messages(build, clock):
    fleet = {**config(rules=[{"roles": "core", "level": 1}]), "agent": {"language": "en"}}
    service, store = build(fleet)
    t = clock.now
    feed(service, store, [down("core-1", t)], t)
    feed(service, store, [up("core-1", t + 37 * 60)], t + 37 * 60)
    titles = [r["body"]["title"] for r in outbox(store)]
    assert titles == ["[Level 1 fault] 电子政务外网 核心交换机 down", "[Recovered] 电子政务外网 核心交换机, lasted 37 min"]


def test_the_recovery_closes_the_alerts_thread_with_how_long_it_lasted(build, clock):
    mail = {"type": "email", "host": "127.0.0.1", "port": 9, "sender": "yunwei@fgw.gov.cn", "to": ["boss@fgw.gov.cn"]}
    service, store = build(config(channels={**WEBHOOK_CHANNEL, "mail": mail}, routes=[{"channels": ["ops", "mail"]}]))
    t = clock.now
    feed(service, store, [down("pc-1", t)], t)
    feed(service, store, [up("pc-1", t + 37 * 60)], t + 37 * 60 + 5)
    fault = service.faults.listing(["resolved"])[0]
    rows = {(r["channel"], r["kind"]): r for r in outbox(store)}
    assert rows[("ops", "resolved")]["body"]["title"] == "【已恢复】电子政务外网 办公电脑, 持续 37 分钟"
    assert rows[("mail", "resolved")]["body"]["subject"] == "【已恢复】电子政务外网 办公电脑, 持续 37 分钟"
    assert {r["thread"] for r in rows.values()} == {fault.id}
    assert rows[("ops", "open")]["body"]["thread"] == rows[("ops", "resolved")]["body"]["thread"] == fault.id
    assert rows[("mail", "open")]["body"]["message_id"] == f"<{fault.id}@yunwei>"
    assert rows[("mail", "resolved")]["body"]["in_reply_to"] == f"<{fault.id}@yunwei>"
    assert f"故障单**: {fault.id}" in rows[("ops", "resolved")]["body"]["text"]  # chat robots: the same fault id


def test_the_ack_note_is_posted_with_the_acknowledgement(build, clock):
    service, store = build(config())
    t = clock.now
    feed(service, store, [down("pc-1", t)], t)
    fault = service.faults.active()[0]
    lifecycle.acknowledge(service.faults, fault.id, "张工", t + 60, note="已派人到场, 预计 30 分钟")
    clock.now = t + 61
    service.tick()
    message = outbox(store)[-1]["body"]
    assert message["title"] == "【已响应】电子政务外网 办公电脑 — 张工"
    assert "**说明**: 已派人到场, 预计 30 分钟" in message["text"]


def test_chat_says_probe_errors_in_chinese_cameras_offline_and_ups_comms_lost(build, clock):
    fleet = {**FLEET, "devices": [
        *FLEET["devices"],
        {"id": "cam-1", "name": "东门摄像机", "kind": "camera", "address": "10.0.0.9", "unit": "fgw", "system": "net"},
        {"id": "ups-1", "name": "机房UPS", "kind": "ups", "address": "10.0.0.8", "unit": "fgw", "system": "net"},
    ]}
    service, store = build({**fleet, "alerting": {"channels": WEBHOOK_CHANNEL, "routes": ROUTE_ALL, "hold_seconds": 0}})
    t = clock.now
    feed(service, store, [down("cam-1", t, "connection refused (port 554)")], t)
    feed(service, store, [down("ups-1", t + 200, "timeout after 3 s (upsd port 3493)")], t + 200)
    camera, ups = outbox(store)[0]["body"], outbox(store)[1]["body"]
    assert camera["title"] == "【三级故障】电子政务外网 东门摄像机 离线"
    assert "**原因**: 连接被拒绝 (端口 554)" in camera["text"] and "refused" not in camera["text"]
    assert ups["title"] == "【三级故障】电子政务外网 机房UPS 通信中断"
    assert "**原因**: 无应答: 3 秒超时 (upsd 端口 3493)" in ups["text"]


def test_chat_in_english_when_the_language_is_en(build, clock):
    service, store = build({**config(), "agent": {"language": "en"}})
    t = clock.now
    feed(service, store, [down("pc-1", t, "connection refused (port 22)")], t)
    body = outbox(store)[0]["body"]
    assert "connection refused (port 22)" in body["text"] and "连接" not in body["text"]
