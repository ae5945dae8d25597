"""Faults from pushed events (traps, syslog): one entry point, FaultEngine.on_event."""

from __future__ import annotations

from alerting_support import ROUTE_ALL, WEBHOOK_CHANNEL

from core.events import Event
from core.model import Sample

FLEET = {
    "units": [{"id": "fgw", "name": "市发改委"}],
    "systems": [{"id": "net", "name": "电子政务外网", "unit": "fgw"}],
    "devices": [
        {"id": "core-sw", "name": "核心交换机", "kind": "switch", "address": "10.0.0.1", "unit": "fgw", "system": "net"},
        {"id": "ups-1", "name": "热线 UPS", "kind": "ups", "address": "10.0.0.2", "unit": "fgw", "system": "net",
         "probes": {"ups": {"nut_ups": "hotline"}}},
    ],
    "alerting": {
        "hold_seconds": 30,
        "rules": [{"sources": "event", "kinds": "switch", "level": 2}],
        "thresholds": [{"name": "ups-battery", "metric": "on_battery", "op": "==", "value": 1, "kinds": "ups", "level": 1,
                        "label": "UPS 市电中断"}],
        "channels": WEBHOOK_CHANNEL,
        "routes": ROUTE_ALL,
    },
}


def link(hint: str, at: float) -> Event:
    return Event("trap", "10.0.0.1", at, "linkDown" if hint == "down" else "linkUp", device="core-sw", hint=hint,  # type: ignore[arg-type]
                 subject="GE0/0/1", metric="if.GE0/0/1.oper_up", value=0.0 if hint == "down" else 1.0,
                 text=f"GE0/0/1 链路{'中断' if hint == 'down' else '恢复'}")


def on_battery(value: float, at: float) -> Event:
    return Event("trap", "10.0.0.2", at, "upsTrapOnBattery", device="ups-1", hint="down" if value else "up",
                 subject="on_battery", metric="on_battery", value=value, confirm=False, text="UPS 市电中断, 电池供电")


def test_a_link_down_event_opens_at_once_levelled_by_the_rules_and_link_up_resolves_it(build, clock):
    service, store = build(FLEET)
    outcome, queued = service.on_event(link("down", clock.now), clock.now)
    assert outcome == "fault opened" and queued == 1  # no hold: the event is the news
    [fault] = service.faults.active()
    assert (fault.key, fault.source, fault.level, fault.cause) == ("event:core-sw:GE0/0/1", "event", 2, "GE0/0/1 链路中断")
    assert service.on_event(link("down", clock.advance(5)), clock.now)[0] == "fault already open"
    assert service.on_event(link("up", clock.advance(60)), clock.now)[0] == "fault resolved"
    assert service.faults.active() == []
    assert service.faults.listing()[0].resolved_how == "event"


def test_a_ups_trap_and_the_poll_saying_the_same_make_one_fault(build, clock):
    service, store = build(FLEET)
    assert service.on_event(on_battery(1.0, clock.now), clock.now)[0] == "fault opened"
    [fault] = service.faults.active()
    assert (fault.key, fault.level) == ("threshold:ups-battery:ups-1", 1)
    poll = Sample("ups-1", "ups", True, clock.advance(30), metrics={"on_battery": 1.0})
    service.on_round([poll], [], clock.now)
    assert [f.id for f in service.faults.active()] == [fault.id]  # the poll confirms: still one fault
    back = Sample("ups-1", "ups", True, clock.advance(60), metrics={"on_battery": 0.0})
    service.on_round([back], [], clock.now)
    assert service.faults.active() == []  # the poll clears the trap's fault


def test_events_without_meaning_unknown_devices_and_maintenance_open_nothing(build, clock):
    fleet = {**FLEET, "maintenance": [
        {"name": "割接", "devices": ["core-sw"], "start": "2020-01-01T00:00:00", "end": "2099-01-01T00:00:00"}]}
    service, store = build(fleet)
    plain = Event("syslog", "10.0.0.1", clock.now, "sshd", device="core-sw", message="Accepted password")
    stranger = Event("trap", "10.9.9.9", clock.now, "linkDown", hint="down", subject="GE0/0/1")
    assert service.on_event(plain, clock.now)[0] == ""
    assert service.on_event(stranger, clock.now)[0] == ""
    assert service.on_event(link("down", clock.now), clock.now)[0] == "maintenance"
    assert service.faults.active() == []


def test_an_event_fault_of_a_device_removed_from_the_inventory_is_resolved(build, clock, make_inventory):
    service, store = build(FLEET)
    service.on_event(link("down", clock.now), clock.now)
    fleet = {**FLEET, "devices": [d for d in FLEET["devices"] if d["id"] != "core-sw"]}
    service.reload(make_inventory(fleet))
    service.tick(clock.advance(10))
    assert service.faults.active() == []
    assert service.faults.listing()[0].resolved_how == "removed"
