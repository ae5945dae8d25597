"""Online rates: the exact sweep against a minute-by-minute count, unknown time, maintenance,
episodes and important periods."""

from __future__ import annotations

import random
from datetime import date

import pytest

from compliance.contract import OnlineSettings, PeriodSpec
from compliance.events import StateEvent
from compliance.ledger import build_ledger
from compliance.online import compute_online, important_windows
from compliance.periods import parse_period
from compliance.scope import GroupScope
from core.timefmt import parse_iso
from inventory.models import ImportantPeriod

PERIOD = parse_period("2026-11", PeriodSpec(), "Asia/Shanghai")  # 30 days
START = PERIOD.start
MIN = 60.0


def ledger_of(states: dict[str, list[tuple[float, str]]], runs: list[tuple[str, float, float]] = (),
              agents: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    events = [StateEvent(device, at, value, agent=(agents or {}).get(device, ""))
              for device, items in states.items() for at, value in items]
    return build_ledger(events, runs)


def group(members: list[str], threshold: float | None = 0.9, important: list[ImportantPeriod] | None = None) -> GroupScope:
    return GroupScope("g", "G", members, threshold, important or [])


def brute_force(states: dict[str, list[tuple[float, str]]], runs: list[tuple[float, float]], minutes: int,
                threshold: float) -> tuple[float, float, int, int, float]:
    """(online device-minutes, observed device-minutes, minutes below, episodes, worst rate) sampled every minute."""
    online = observed = below = episodes = 0
    worst = 2.0
    previous_below = False
    for minute in range(minutes):
        t = START + minute * MIN
        covered = any(a <= t < b for a, b in runs)
        up = known = 0
        for items in states.values():
            current = "unknown"
            for at, value in items:
                if at <= t:
                    current = value
            if not covered or current in ("unknown", "maintenance"):
                continue
            known += 1
            up += current == "up"
        online += up
        observed += known
        is_below = known > 0 and up / known < threshold
        if known > 0:
            worst = min(worst, up / known)
        if is_below:
            below += 1
            episodes += not previous_below
        if known > 0 or not is_below:
            previous_below = is_below
    return online, observed, below, episodes, worst


@pytest.mark.parametrize("seed", range(6))
def test_sweep_matches_a_minute_by_minute_count(seed: int) -> None:
    rng = random.Random(seed)
    minutes = 3 * 24 * 60  # judge the first three days (now = 3 days in)
    states: dict[str, list[tuple[float, str]]] = {}
    for index in range(8):
        t = START - rng.randint(0, 600) * MIN if index else START + 17 * MIN  # device 0 starts unknown
        items = [(t, "up")]
        while t < START + minutes * MIN:
            t += rng.randint(5, 400) * MIN
            items.append((t, rng.choice(["down", "up", "up", "maintenance", "unknown"])))
        states[f"d{index}"] = items
    runs = [(START - 3600, START + 1000 * MIN), (START + 1100 * MIN, START + 10000 * MIN)]
    ledger = ledger_of(states, [("", a, b) for a, b in runs])
    now = START + minutes * MIN
    result = compute_online(ledger, [group(list(states), 0.75)], PERIOD, now, OnlineSettings())
    rate = result.groups[0]
    online, observed, below, episodes, worst = brute_force(states, runs, minutes, 0.75)
    assert rate.online == pytest.approx(online * MIN)
    assert rate.observed == pytest.approx(observed * MIN)
    assert rate.seconds_below == pytest.approx(below * MIN)
    assert len(rate.episodes) == episodes
    assert rate.worst_online / rate.worst_known == pytest.approx(worst)
    # the group's rate is the sum of its devices' seconds
    assert rate.online == pytest.approx(sum(d.up for d in result.devices.values()))
    unknown = sum(d.unknown for d in result.devices.values())
    maintenance = sum(d.maintenance for d in result.devices.values())
    assert rate.observed + unknown + maintenance == pytest.approx(8 * minutes * MIN)


def test_time_before_the_first_state_and_outside_agent_runs_is_unknown() -> None:
    states = {"a": [(START + 3600, "up")], "b": [(START - 86400, "down")], "c": []}
    runs = [("site-a", START, START + 7200), ("site-b", START, START + 86400)]
    ledger = ledger_of(states, runs, agents={"a": "site-a", "b": "site-b"})
    result = compute_online(ledger, [group(["a", "b", "c"])], PERIOD, START + 86400, OnlineSettings())
    a, b, c = (result.devices[d] for d in "abc")
    assert (a.up, a.unknown) == (3600, 86400 - 3600)            # 1 h before its first state, 22 h agent away
    assert (b.down, b.unknown) == (86400, 0)                    # carried in from the day before
    assert (c.unknown, c.rate("exclude")) == (86400, None)      # never seen
    assert result.groups[0].unknown == a.unknown + c.unknown


def test_no_run_records_at_all_take_the_states_as_observed() -> None:
    ledger = ledger_of({"a": [(START, "up"), (START + 600, "down")]})
    result = compute_online(ledger, [group(["a"])], PERIOD, START + 1200, OnlineSettings())
    assert (result.devices["a"].up, result.devices["a"].down, result.devices["a"].unknown) == (600, 600, 0)


@pytest.mark.parametrize(("mode", "rate"), [("exclude", 1.0), ("online", 1.0), ("offline", 0.5)])
def test_maintenance_modes(mode: str, rate: float) -> None:
    ledger = ledger_of({"a": [(START, "up"), (START + 3600, "maintenance")]})
    result = compute_online(ledger, [group(["a"])], PERIOD, START + 7200, OnlineSettings(maintenance=mode))
    assert result.groups[0].rate == rate


def test_episodes_merge_and_minimum_settings() -> None:
    # 2 devices, threshold 90 %: below whenever one is down. Outages: 10 min, 1 min gap, 10 min, then 2 min
    states = {"a": [(START, "up"), (START + 600, "down"), (START + 1200, "up"), (START + 1260, "down"),
                    (START + 1860, "up"), (START + 7200, "down"), (START + 7320, "up")],
              "b": [(START, "up")]}
    ledger = ledger_of(states)
    now = START + 86400
    strict = compute_online(ledger, [group(["a", "b"])], PERIOD, now, OnlineSettings()).groups[0]
    assert len(strict.episodes) == 3 and strict.seconds_below == 600 + 600 + 120
    merged = compute_online(ledger, [group(["a", "b"])], PERIOD, now, OnlineSettings(merge_gap_seconds=60)).groups[0]
    assert [(e.start - START, e.end - START) for e in merged.episodes] == [(600, 1860), (7200, 7320)]
    long_only = compute_online(ledger, [group(["a", "b"])], PERIOD, now,
                               OnlineSettings(merge_gap_seconds=60, min_episode_seconds=300)).groups[0]
    assert len(long_only.episodes) == 1


def test_important_period_threshold_applies_to_its_days_only() -> None:
    # 50 devices, one down all of 3 November: 98 % - below the 99 % of an important day, not the 95 % base
    devices = [f"d{i}" for i in range(50)]
    states = {d: [(START - 60, "up")] for d in devices}
    states["d0"] += [(parse_iso("2026-11-03T00:00:00+08:00"), "down"), (parse_iso("2026-11-05T00:00:00+08:00"), "up")]
    ledger = ledger_of(states)
    important = [ImportantPeriod(name="会议", start=date(2026, 11, 3), end=date(2026, 11, 3), threshold=0.99)]
    result = compute_online(ledger, [group(devices, 0.95, important)], PERIOD, PERIOD.end, OnlineSettings()).groups[0]
    assert [(e.start, e.end) for e in result.episodes] == [
        (parse_iso("2026-11-03T00:00:00+08:00"), parse_iso("2026-11-04T00:00:00+08:00"))]
    [window] = result.windows
    assert (window.rate, window.met) == (49 / 50, False)
    assert result.base_met is True and result.met is False
    assert [d[3] for d in result.daily[1:4]] == [0.95, 0.99, 0.95]


def test_yearly_and_year_crossing_important_periods() -> None:
    december = parse_period("2026-12", PeriodSpec(), "Asia/Shanghai")
    january = parse_period("2027-01", PeriodSpec(), "Asia/Shanghai")
    periods = [ImportantPeriod(name="元旦", start=date(2024, 12, 30), end=date(2025, 1, 2), threshold=0.98, yearly=True),
               ImportantPeriod(name="一次性", start=date(2026, 12, 1), end=date(2026, 12, 2), threshold=0.99)]
    assert important_windows(periods, december) == [("一次性", date(2026, 12, 1), date(2026, 12, 2), 0.99),
                                                     ("元旦", date(2026, 12, 30), date(2026, 12, 31), 0.98)]
    assert important_windows(periods, january) == [("元旦", date(2027, 1, 1), date(2027, 1, 2), 0.98)]


def test_maintenance_windows_recorded_by_alerting_are_not_counted_as_outage() -> None:
    """A device down for planned work (a ``maintenance`` record, as alerting files one per
    window) is not offline in the online rate; outside the window the outage counts."""
    from compliance.events import Record
    from core.timefmt import to_iso

    window = {
        "type": "record",
        "kind": "maintenance",
        "unit": "u",
        "at": to_iso(START + 3600, "Asia/Shanghai"),
        "start": to_iso(START + 3600, "Asia/Shanghai"),
        "end": to_iso(START + 7200, "Asia/Shanghai"),
        "devices": ["a"],
    }
    record = Record("maintenance", START + 3600, "u", None, None, window, "record:maintenance:x")
    states = [StateEvent("a", START, "up"), StateEvent("a", START + 3000, "down"), StateEvent("a", START + 9000, "up")]
    ledger = build_ledger([*states, record])
    result = compute_online(ledger, [group(["a"])], PERIOD, START + 10800, OnlineSettings())
    a = result.devices["a"]
    # down 3000..9000, of which 3600..7200 is the window: 2,400 s of real outage remain
    assert (a.up, a.down, a.maintenance) == (3000 + 1800, 600 + 1800, 3600)
    assert result.groups[0].rate == pytest.approx(4800 / 7200)


def test_a_maintenance_record_without_its_window_is_refused() -> None:
    from compliance.events import EventError, parse_event

    body = {"type": "record", "kind": "maintenance", "unit": "u", "at": "2026-11-03T09:00:00+08:00", "devices": ["a"]}
    with pytest.raises(EventError, match="start"):
        parse_event(body)


def test_a_threshold_written_with_fifteen_digits_judges_ten_thousand_devices_exactly() -> None:
    """A 91.4177763170669 % threshold and 10,000 devices, three of them down for half an hour: 99.97 %
    is not below it (64-bit products of that many digits wrap around and said it was; the sweep
    compares with Python's integers then)."""
    devices = [f"d{i:05d}" for i in range(10_000)]
    states = {d: [(START - 60, "up")] for d in devices}
    for down in devices[:3]:
        states[down] += [(START + 3600, "down"), (START + 5400, "up")]
    result = compute_online(ledger_of(states), [group(devices, 0.914177763170669)], PERIOD, START + 7200,
                            OnlineSettings()).groups[0]
    assert (result.seconds_below, result.episodes) == (0, [])
    assert (result.worst_online, result.worst_known, result.worst_at) == (9_997, 10_000, START + 3600)
