"""Maintenance windows, flap damping, threshold rules, meeting checks and the daily summary."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from alerting_support import ROUTE_ALL, T0, WEBHOOK_CHANNEL, down, feed, ledger_faults, outbox, up

from core.errors import InputError
from core.model import Sample
from inventory.maintenance import MaintenanceWindow, cron_trigger, window_span

ZONE = ZoneInfo("Asia/Shanghai")
FLEET = {
    "units": [{"id": "fgw", "name": "市发改委"}],
    "systems": [{"id": "net", "name": "电子政务外网", "unit": "fgw"}],
    "defaults": {"probes": {"tcp": {"port": 22}}},
    "groups": [{"id": "room", "name": "机房", "unit": "fgw", "system": "net", "kind": "switch"}],
    "devices": [
        {"id": "sw-1", "name": "接入交换机1", "group": "room", "address": "10.0.0.1"},
        {"id": "sw-2", "name": "接入交换机2", "group": "room", "address": "10.0.0.2"},
        {"id": "line-1", "name": "互联网专线", "kind": "line", "address": "10.0.0.9", "unit": "fgw", "system": "net",
         "probes": {"icmp": {}}},
        {"id": "ups-1", "name": "12345 UPS", "kind": "ups", "address": "10.0.0.8", "unit": "fgw", "system": "net",
         "attrs": {"required_runtime_minutes": 180}, "probes": {"ups": {"source": "nut", "nut_ups": "hotline"}}},
    ],
}


def config(maintenance=(), **alerting):
    alerting = {"channels": WEBHOOK_CHANNEL, "routes": ROUTE_ALL, "hold_seconds": 0, **alerting}
    return {**FLEET, "maintenance": list(maintenance), "alerting": alerting}


def local(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).timestamp()


# -- maintenance ---------------------------------------------------------------------------


def test_a_fault_inside_a_maintenance_window_is_recorded_not_alerted(build, clock):
    window = {"name": "周二割接", "groups": ["room"], "weekly": {"days": ["tue"], "start": "08:30", "end": "10:00"}}
    service, store = build(config(maintenance=[window]))
    t = clock.now  # Tuesday 09:00
    feed(service, store, [down("sw-1", t), down("sw-2", t)], t)
    service.tick()
    assert outbox(store) == []
    faults = {f.device: f for f in service.faults.active()}
    assert {d: f.waived for d, f in faults.items()} == {"sw-1": "maintenance", "sw-2": "maintenance"}
    clock.now = local("2026-11-03T09:30:00")
    feed(service, store, [up("sw-1", clock.now)], clock.now)  # came back inside the window: silently resolved
    assert service.faults.get(faults["sw-1"].id).state == "resolved"
    clock.now = local("2026-11-03T09:59:59")
    service.tick()
    assert outbox(store) == []
    clock.now = local("2026-11-03T10:00:00")  # the window ends with sw-2 still down: alerted now
    service.tick()
    rows = outbox(store)
    assert [r["kind"] for r in rows] == ["open"]
    assert "接入交换机2 中断" in rows[0]["body"]["title"]
    new = service.faults.active()[0]
    assert (new.device, new.opened, new.waived) == ("sw-2", clock.now, None)
    bodies = ledger_faults(store)
    assert bodies[f"fault:{faults['sw-2'].id}"]["waived"] == "maintenance"
    assert bodies[f"fault:{faults['sw-2'].id}"]["resolved_how"] == "maintenance_end"
    # the window's ledger record is the fleet state's (tests/agent/test_fleet.py), not alerting's


def test_a_fault_that_started_before_the_window_stays_an_ordinary_fault(build, clock):
    window = {"name": "one-off", "devices": ["sw-1"], "start": "2026-11-03T09:10:00", "end": "2026-11-03T09:40:00"}
    service, store = build(config(maintenance=[window]))
    feed(service, store, [down("sw-1", clock.now)], clock.now)
    clock.now = local("2026-11-03T09:20:00")
    service.tick()
    assert [f.waived for f in service.faults.active()] == [None]


@pytest.mark.parametrize(
    ("spec", "at", "expected"),
    [
        ({"weekly": {"days": ["sat"], "start": "23:00", "end": "02:00"}}, "2026-11-08T01:30:00", ("2026-11-07T23:00:00", "2026-11-08T02:00:00")),
        ({"weekly": {"days": ["sat"], "start": "23:00", "end": "02:00"}}, "2026-11-08T02:00:00", None),
        ({"weekly": {"start": "02:00", "end": "04:00"}}, "2026-11-05T03:59:00", ("2026-11-05T02:00:00", "2026-11-05T04:00:00")),
        ({"cron": "0 2 1 * *", "duration_minutes": 120}, "2026-12-01T03:00:00", ("2026-12-01T02:00:00", "2026-12-01T04:00:00")),
        ({"cron": "0 2 1 * *", "duration_minutes": 120}, "2026-12-02T03:00:00", None),
        ({"cron": "*/30 22-23 * * 1-5", "duration_minutes": 10}, "2026-11-03T22:35:00", ("2026-11-03T22:30:00", "2026-11-03T22:40:00")),
        ({"cron": "*/30 22-23 * * 1-5", "duration_minutes": 10}, "2026-11-07T22:35:00", None),  # Saturday
    ],
)
def test_recurring_windows(spec, at, expected):
    window = MaintenanceWindow.model_validate({"name": "w", "devices": ["x"], **spec})
    span = window_span(window, local(at), ZONE)
    assert span == (None if expected is None else (local(expected[0]), local(expected[1])))


def test_bad_windows_are_refused_with_a_reason(make_inventory):
    with pytest.raises(InputError, match="cron '0 25 \\* \\* \\*': .*25.* higher than the maximum value \\(23\\)"):
        make_inventory({**FLEET, "maintenance": [{"name": "x", "devices": ["sw-1"], "cron": "0 25 * * *", "duration_minutes": 5}]})
    with pytest.raises(InputError, match="needs devices:, groups:, systems: or units:"):
        make_inventory({**FLEET, "maintenance": [{"name": "x", "weekly": {"start": "01:00", "end": "02:00"}}]})
    with pytest.raises(InputError, match="maintenance: moved out of alerting: to the top level"):
        make_inventory({**FLEET, "alerting": {"maintenance": [{"name": "x", "devices": ["sw-1"], "weekly": {"start": "01:00", "end": "02:00"}}]}})
    with pytest.raises(ValueError, match="day of week"):
        cron_trigger("0 0 * * 8")


# -- flapping -----------------------------------------------------------------------------


def test_a_flapping_device_becomes_one_flapping_fault(build, clock):
    service, store = build(config(flapping={"count": 3, "minutes": 30}, storm={"window_seconds": 0}))
    t = clock.now
    for cycle in range(10):  # down 1 minute, up 2 minutes, for half an hour
        start = t + cycle * 180
        feed(service, store, [down("sw-1", start)], start)
        feed(service, store, [up("sw-1", start + 60)], start + 60)
    faults = service.faults.listing()
    flapping = [f for f in faults if f.source == "flapping"]
    assert len(flapping) == 1
    assert flapping[0].state == "open"
    assert flapping[0].cause == "30 分钟内中断 3 次"
    assert len([f for f in faults if f.source == "down"]) == 2  # before it was recognised
    titles = [r["body"]["title"] for r in outbox(store)]
    assert len(titles) == 5, titles  # 2 × (open + recovered) + 1 flapping, not 20
    assert titles[-1] == "【三级故障】电子政务外网 接入交换机1 频繁抖动"
    # stays open while it keeps flapping; closes after it was up for 30 minutes
    clock.now = t + 9 * 180 + 60 + 1799  # the last recovery + 30 min - 1 s
    service.tick()
    assert service.faults.get(flapping[0].id).state == "open"
    clock.now += 2
    service.tick()
    closed = service.faults.get(flapping[0].id)
    assert (closed.state, closed.resolved) == ("resolved", t + 9 * 180 + 60)
    assert outbox(store)[-1]["kind"] == "resolved"


# -- thresholds ---------------------------------------------------------------------------


def sample(device, ts, probe="icmp", **metrics):
    return Sample(device=device, probe=probe, ok=True, ts=ts, metrics=metrics)


def test_loss_over_threshold_for_three_rounds_opens_and_clears(build, clock):
    rule = {"name": "line-loss", "metric": "loss_percent", "op": ">", "value": 20, "for_rounds": 3, "kinds": "line", "label": "丢包率"}
    service, store = build(config(thresholds=[rule]))
    t = clock.now
    losses = [0, 30, 40, 10, 30, 35, 50, 60, 0, 0, 5, 0]
    for index, loss in enumerate(losses):
        feed(service, store, [], t + index * 60, samples=[sample("line-1", t + index * 60, loss_percent=loss), sample("sw-1", t + index * 60, loss_percent=90)])
        if index == 6:
            fault = service.faults.active()
            assert [(f.source, f.device, f.cause) for f in fault] == [("threshold", "line-1", "丢包率: 50 > 20")]
            assert fault[0].opened == t + 4 * 60  # the first of the three
    resolved = service.faults.last_for_key("threshold:line-loss:line-1")
    assert (resolved.state, resolved.resolved) == ("resolved", t + 8 * 60)
    assert [r["kind"] for r in outbox(store)] == ["open", "resolved"]


def test_ups_runtime_below_the_required_hours_uses_the_device_attribute(build, clock):
    rule = {"name": "ups-runtime", "metric": "runtime_seconds", "op": "<", "value_attr": "required_runtime_minutes",
            "scale": 60, "label": "UPS 后备时间不足", "level": 2}
    service, store = build(config(thresholds=[rule]))
    feed(service, store, [], clock.now, samples=[sample("ups-1", clock.now, "ups", runtime_seconds=12000)])
    assert service.faults.active() == []
    feed(service, store, [], clock.now + 60, samples=[sample("ups-1", clock.now + 60, "ups", runtime_seconds=9000)])
    assert [(f.level, f.cause) for f in service.faults.active()] == [(2, "UPS 后备时间不足: 9000 < 10800")]


def test_no_threshold_fault_for_a_device_that_is_down(build, clock):
    rule = {"name": "loss", "metric": "loss_percent", "op": ">", "value": 20}
    service, store = build(config(thresholds=[rule]))
    t = clock.now
    feed(service, store, [down("line-1", t)], t, samples=[Sample("line-1", "icmp", False, t, {"loss_percent": 100})])
    feed(service, store, [], t + 60, samples=[Sample("line-1", "icmp", True, t + 60, {"loss_percent": 100})])
    assert [f.source for f in service.faults.active()] == ["down"]


def test_threshold_config_needs_one_value(make_inventory):
    with pytest.raises(InputError, match="exactly one of value"):
        make_inventory({**FLEET, "alerting": {"thresholds": [{"name": "x", "metric": "m", "op": ">"}]}})


# -- meeting checks and the daily summary -------------------------------------------------


def test_meeting_check_records_are_posted_once_and_again_when_they_change(build, clock):
    service, store = build(config())
    body = {  # the shape agent/meetings.py files
        "type": "record", "kind": "meeting_check", "id": "全省医保视频会-20261103T1000", "unit": "fgw", "system": "net",
        "at": "2026-11-03T09:30:00+08:00", "meeting": "全省医保视频会", "meeting_at": "2026-11-03T10:00:00+08:00",
        "ready": False, "ready_count": 1, "venue_count": 2,
        "venues": [
            {"venue": "vc-gy", "name": "贵阳分会场", "ready": False, "why": ["SIP 无响应", "丢包 20%"], "rtt_ms": None, "loss_percent": 20},
            {"venue": "vc-zy", "name": "遵义分会场", "ready": True, "why": [], "rtt_ms": 3.1, "loss_percent": 0},
        ],
    }
    store.put_event("record:meeting_check:1", "record", T0, body)
    service.tick()
    service.tick()
    rows = outbox(store)
    assert len(rows) == 1
    assert rows[0]["body"]["title"] == "【会前检查】全省医保视频会: 1/2 个会场未就绪"
    assert rows[0]["body"]["text"] == "- **会议时间**: 2026-11-03 10:00\n- 贵阳分会场 (vc-gy): 未就绪 SIP 无响应; 丢包 20%\n- 其余 1 个会场就绪"
    store.put_event("record:meeting_check:1", "record", T0, {**body, "ready": True, "ready_count": 2, "venues": []})
    service.tick()
    assert outbox(store)[-1]["body"]["title"] == "【会前检查】全省医保视频会: 全部就绪 (2/2)"
    assert len(outbox(store)) == 2


def test_daily_summary_at_the_configured_time(build, clock):
    service, store = build(config(rules=[{"kinds": "line", "level": 2}], daily_summary={"at": "08:30"}))
    clock.now = local("2026-11-03T08:00:00")
    feed(service, store, [down("line-1", clock.now)], clock.now)
    clock.now = local("2026-11-03T08:29:59")
    service.tick()
    assert [r["kind"] for r in outbox(store)] == ["open", "overdue"]  # 10-minute response missed
    clock.now = local("2026-11-03T08:30:00")
    service.tick()
    service.tick()
    rows = outbox(store)
    assert [r["kind"] for r in rows] == ["open", "overdue", "summary"]
    summary = rows[-1]["body"]
    assert summary["title"] == "【运维日报】11月3日"
    assert "未关闭故障**: 1 (二级故障 1)" in summary["text"]
    assert "修复时限 12:00" in summary["text"]
    # neither device has been seen yet: no rate rather than a false 0 %
    assert "机房: 暂无数据 (0/0 (未知 2))" in summary["text"]
    clock.now = local("2026-11-04T08:30:00")
    service.tick()
    assert [r["kind"] for r in outbox(store)].count("summary") == 2


def test_a_storm_of_ups_alarms_says_each_alarm_once(build, clock):
    fleet = {**FLEET, "devices": [
        {"id": f"ups-{i}", "name": "UPS", "kind": "ups", "address": f"10.0.1.{i}", "unit": "fgw", "system": "net",
         "group": "room", "probes": {"tcp": None, "ups": {"nut_ups": "ups"}}} for i in (1, 2, 3)]}
    rule = {"name": "mains", "metric": "on_battery", "op": "==", "value": 1, "label": "UPS 市电中断", "level": 2}
    service, store = build({**fleet, "alerting": {"channels": WEBHOOK_CHANNEL, "routes": ROUTE_ALL, "hold_seconds": 0,
                                                  "thresholds": [rule]}})
    t = clock.now
    feed(service, store, [], t, samples=[sample("ups-1", t, "ups", on_battery=1)])
    assert outbox(store)[0]["body"]["title"] == "【二级故障】电子政务外网 UPS 市电中断"
    feed(service, store, [], t + 600, samples=[sample(f"ups-{i}", t + 600, "ups", on_battery=1) for i in (2, 3)])
    storm = outbox(store)[-1]["body"]
    lines = [line for line in storm["text"].splitlines() if line.startswith("- F-")]
    assert len(lines) == 2
    for line in lines:
        assert "**电子政务外网 UPS** 市电中断 ·" in line and line.count("UPS") == 1 and line.count("市电中断") == 1, line
