"""Online rules per kind/group/device and the live online rate of a camera group."""

from __future__ import annotations

from datetime import date

from agent.status import group_rates, render_status
from agent.transitions import StatusTracker
from core.model import Sample, State
from inventory.models import DebounceSettings
from store.db import open_store

NOW = 1_793_000_000.0  # 2026-10-26


def camera_fleet(make_inventory, count: int = 100):  # type: ignore[no-untyped-def]
    return make_inventory(
        {
            "units": [{"id": "gaj", "name": "市公安局"}],
            "groups": [
                {
                    "id": "lantian",
                    "name": "蓝天卫士 100 路",
                    "unit": "gaj",
                    "kind": "camera",
                    "online": "rtsp",
                    "probes": {"icmp": {"count": 1}, "rtsp": {"path": "/stream"}},
                    "online_rate": {
                        "threshold": 0.95,
                        "warn_margin": 0.01,
                        "important_periods": [
                            {"name": "国庆", "start": "2026-10-01", "end": "2026-10-07", "threshold": 0.98, "yearly": True}
                        ],
                    },
                }
            ],
            "devices": [
                {"id": f"cam-{i:03d}", "group": "lantian", "address": f"10.20.0.{i + 1}"} for i in range(count)
            ],
        }
    )


def observe(tracker: StatusTracker, offline: set[str], devices: list[str], probe: str = "rtsp") -> None:
    samples = [
        Sample(device=d, probe=probe, ok=d not in offline, ts=NOW, error=None if d not in offline else "timeout")
        for d in devices
    ]
    tracker.observe(samples)


def states(tracker: StatusTracker) -> dict[str, tuple[State, float]]:
    return {d: (s.state, s.since or NOW) for d, s in tracker.devices.items()}


def test_100_cameras_with_6_offline_read_94_percent_and_breach(make_inventory) -> None:
    inventory = camera_fleet(make_inventory)
    devices = sorted(inventory.devices)
    tracker = StatusTracker(inventory, debounce=DebounceSettings(down_after=1, up_after=1))
    observe(tracker, set(devices[:6]), devices)
    [rate] = group_rates(inventory, states(tracker), today=date(2026, 11, 3))
    assert (rate.online, rate.total) == (94, 100)
    assert rate.rate == 0.94
    assert rate.threshold == 0.95
    assert rate.level == "breach"


def test_warning_comes_at_96_percent_before_the_rate_is_lost(make_inventory) -> None:
    inventory = camera_fleet(make_inventory)
    devices = sorted(inventory.devices)
    levels = {}
    for offline in (3, 4, 5, 6):
        tracker = StatusTracker(inventory, debounce=DebounceSettings(down_after=1, up_after=1))
        observe(tracker, set(devices[:offline]), devices)
        [rate] = group_rates(inventory, states(tracker), today=date(2026, 11, 3))
        levels[100 - offline] = rate.level
    assert levels == {97: "ok", 96: "warn", 95: "warn", 94: "breach"}


def test_important_period_raises_the_threshold(make_inventory) -> None:
    inventory = camera_fleet(make_inventory)
    devices = sorted(inventory.devices)
    tracker = StatusTracker(inventory, debounce=DebounceSettings(down_after=1, up_after=1))
    observe(tracker, set(devices[:3]), devices)
    [national_day] = group_rates(inventory, states(tracker), today=date(2027, 10, 3))  # yearly period
    [ordinary] = group_rates(inventory, states(tracker), today=date(2026, 11, 3))
    assert national_day.threshold == 0.98 and national_day.level == "breach"
    assert ordinary.threshold == 0.95 and ordinary.level == "ok"


def test_the_group_rule_decides_not_the_other_probe(make_inventory) -> None:
    """The group says ``online: rtsp``: a camera answering ping but not RTSP is offline."""
    inventory = camera_fleet(make_inventory, count=10)
    devices = sorted(inventory.devices)
    tracker = StatusTracker(inventory, debounce=DebounceSettings(down_after=1, up_after=1))
    observe(tracker, set(), devices, probe="icmp")
    observe(tracker, {"cam-000"}, devices, probe="rtsp")
    assert tracker.state("cam-000")[0] == State.DOWN
    assert tracker.state("cam-001")[0] == State.UP


def test_status_shows_the_rate_and_the_breach(make_inventory) -> None:
    inventory = camera_fleet(make_inventory)
    devices = sorted(inventory.devices)
    tracker = StatusTracker(inventory, debounce=DebounceSettings(down_after=1, up_after=1))
    with open_store(inventory.data_dir) as store:
        samples = [Sample(device=d, probe="rtsp", ok=d not in devices[:6], ts=NOW) for d in devices]
        store.write_samples(samples)
        store.add_transitions(tracker.observe(samples))
        text = render_status(inventory, store, now=NOW + 60)
    line = next(line for line in text.splitlines() if line.startswith("蓝天卫士 100 路"))
    assert "94/100" in line and "94.0 %" in line and "95%" in line and "不达标" in line


def test_vc_terminal_default_rule_is_any_of_icmp_and_sip(make_inventory) -> None:
    inventory = make_inventory(
        {
            "devices": [
                {"id": "vc-1", "kind": "vc_terminal", "address": "10.9.0.1", "probes": {"icmp": {}, "sip": {}}},
                {"id": "vc-2", "kind": "vc_terminal", "address": "10.9.0.2", "probes": {"icmp": {}, "sip": {}}},
                {
                    "id": "cam-x",
                    "kind": "camera",
                    "address": "10.9.0.3",
                    "online": "all(icmp, rtsp)",
                    "probes": {"icmp": {}, "rtsp": {"username": "u", "password": "p"}},
                },
            ]
        }
    )
    assert inventory.devices["vc-1"].online == "any(icmp, sip)"
    tracker = StatusTracker(inventory, debounce=DebounceSettings(down_after=1, up_after=1))
    tracker.observe(
        [
            Sample("vc-1", "icmp", False, NOW, error="100% loss"),  # ICMP filtered by a firewall,
            Sample("vc-1", "sip", True, NOW),  # but the SIP stack answers: online
            Sample("vc-2", "icmp", False, NOW, error="100% loss"),
            Sample("vc-2", "sip", False, NOW, error="no SIP answer"),
            Sample("cam-x", "icmp", True, NOW),
            Sample("cam-x", "rtsp", False, NOW, error="credentials wrong", metrics={"auth_failed": 1}),
        ]
    )
    assert tracker.state("vc-1")[0] == State.UP
    assert tracker.state("vc-2")[0] == State.DOWN
    assert tracker.state("cam-x")[0] == State.DOWN
