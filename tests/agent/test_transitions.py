"""Debounced transitions: flaps are not outages; outages are dated from the first failed sample."""

from __future__ import annotations

from agent.transitions import StatusTracker
from core.model import Sample, State

T0 = 1_800_000_000.0


def inventory_of(make_inventory, online: str = "tcp", probes: dict | None = None):  # type: ignore[no-untyped-def]
    return make_inventory(
        {
            "agent": {"debounce": {"down_after": 3, "up_after": 2}},
            "devices": [{"id": "d", "address": "127.0.0.1", "probes": probes or {"tcp": {"port": 1}}, "online": online}],
        }
    )


def feed(tracker: StatusTracker, pattern: str, probe: str = "tcp", start: float = T0, step: float = 60.0) -> list:
    transitions = []
    for i, char in enumerate(pattern):
        transitions += tracker.observe([Sample("d", probe, ok=char == "+", ts=start + i * step, error=None if char == "+" else "timeout")])
    return transitions


def test_flap_shorter_than_the_debounce_is_not_an_outage(make_inventory) -> None:  # type: ignore[no-untyped-def]
    tracker = StatusTracker(inventory_of(make_inventory))
    transitions = feed(tracker, "++--+--++-+++")
    assert [(t.state, t.at) for t in transitions] == [(State.UP, T0)]


def test_outage_is_dated_from_its_first_failed_sample(make_inventory) -> None:  # type: ignore[no-untyped-def]
    tracker = StatusTracker(inventory_of(make_inventory))
    transitions = feed(tracker, "+++----+++")
    assert [(t.previous, t.state, t.at) for t in transitions] == [
        (State.UNKNOWN, State.UP, T0),
        (State.UP, State.DOWN, T0 + 3 * 60),  # fourth sample: the first failure
        (State.DOWN, State.UP, T0 + 7 * 60),
    ]
    assert transitions[1].cause == "timeout"


def test_any_rule_goes_down_when_the_last_probe_went_down(make_inventory) -> None:  # type: ignore[no-untyped-def]
    inventory = inventory_of(make_inventory, "any(tcp, http)", {"tcp": {"port": 1}, "http": {"url": "http://127.0.0.1/"}})
    tracker = StatusTracker(inventory)
    feed(tracker, "++", "tcp")
    feed(tracker, "++", "http")
    assert tracker.state("d")[0] == State.UP
    assert feed(tracker, "---", "tcp", start=T0 + 600) == []  # http still answers: online
    # http down from 900 too, but tcp was last heard at 720: what it did at 900 is not known yet
    assert feed(tracker, "---", "http", start=T0 + 900) == []
    transitions = feed(tracker, "-", "tcp", start=T0 + 1200)  # tcp's next round: still down
    assert [(t.state, t.at) for t in transitions] == [(State.DOWN, T0 + 900)]


def test_known_state_survives_a_restart(make_inventory) -> None:  # type: ignore[no-untyped-def]
    inventory = inventory_of(make_inventory)
    tracker = StatusTracker(inventory, initial={"d": (State.DOWN, T0 - 3600)})
    assert feed(tracker, "---") == []  # still down: no new transition
    assert tracker.state("d") == (State.DOWN, T0 - 3600)
