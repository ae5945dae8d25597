"""What alerting writes to the ledger parses with the ledger's own validator (issue 6's format)."""

from __future__ import annotations

from alerting_support import ROUTE_ALL, WEBHOOK_CHANNEL, camera_fleet, down, feed, up

from agent.fleet import maintenance_records
from alerting import lifecycle
from compliance.events import Fault as LedgerFault
from compliance.events import Record, parse_event


def test_every_fault_and_record_alerting_writes_is_a_valid_ledger_event(build, clock):
    config = camera_fleet(40, {"channels": WEBHOOK_CHANNEL, "routes": ROUTE_ALL, "hold_seconds": 0})
    config["maintenance"] = [{"name": "割接", "devices": ["cam-039"], "start": "2026-11-03T08:00:00", "end": "2026-11-03T12:00:00"}]
    config["groups"][0].pop("online_rate")  # three cameras down get faults of their own first
    config["groups"].append({"id": "loose", "name": "无归属", "kind": "camera"})  # a group without unit or system
    for index in range(5):
        config["devices"].append({"id": f"loose-{index}", "group": "loose", "address": f"10.9.0.{index + 1}"})
    config["devices"][-1].update({"unit": "gaj", "system": "lantian"})
    service, store = build(config)
    t = clock.now
    seen = [up(d["id"], t - 60) for d in config["devices"]]  # the fleet was seen up: every member counts in rates
    feed(service, store, seen, t - 60)
    feed(service, store, [down(f"cam-{i:03d}", t) for i in range(3)], t)  # absorbed once the line shows up
    feed(service, store, [down("line-1", t), down("cam-039", t)], t + 30)
    feed(service, store, [down(f"loose-{i}", t) for i in range(5)], t + 40)
    lifecycle.open_manual(service.faults, service.inventory, 3, "电话报修", "张三", t + 50, group="loose")
    line_fault = next(f for f in service.faults.active() if f.device == "line-1")
    lifecycle.resolve(service.faults, line_fault.id, "李四", t + 590, note="重启光猫")  # fixed by hand
    feed(service, store, [up("line-1", t + 600)] + [up(f"cam-{i:03d}", t + 600) for i in range(3)], t + 600)
    feed(service, store, [down("line-1", t + 700)], t + 700)  # recurring: the fix did not hold
    faults = [parse_event(body) for _, _, _, _, body in store.events(["fault"])]
    # the window's record is filed by the fleet state, whether or not alerting runs
    [occurrence] = service.engine.calendar.active(t)
    records = [parse_event(body) for _, body in maintenance_records(occurrence, service.inventory)]
    assert all(isinstance(f, LedgerFault) for f in faults) and len(faults) >= 6
    assert {f.waived for f in faults} == {None, "maintenance"}
    assert any(f.body["absorbed_into"] for f in faults)
    assert any(f.body["recurrence_of"] for f in faults)
    group_fault = next(f for f in faults if f.body.get("group") == "loose" and f.body["source"] == "group")
    assert (group_fault.unit, group_fault.system) == ("gaj", "lantian")  # from its members
    assert [r.kind for r in records] == ["maintenance"]
    assert isinstance(records[0], Record) and records[0].unit == "gaj"
