"""Transitions only move forward in time, and the time-weighted online rate they give equals the
one recomputed from the raw samples, whatever the probe intervals, debounce and arrival order."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.fleet import FleetState
from core.model import Sample, State, Transition
from inventory.config import Inventory, config_from_data


def terminal(online: str = "any(icmp, sip)", down_after: int = 1, up_after: int = 1, intervals=(30, 60)) -> Inventory:
    return config_from_data(
        {
            "agent": {"debounce": {"down_after": down_after, "up_after": up_after}, "data_dir": "/nonexistent"},
            "devices": [
                {
                    "id": "vc-1",
                    "kind": "vc_terminal",
                    "address": "127.0.0.1",
                    "online": online,
                    "probes": {
                        "icmp": {"interval": intervals[0]},
                        "sip": {"collector": "tcp", "port": 5060, "interval": intervals[1]},
                    },
                }
            ],
        }
    )


def ok(probe: str, at: float, good: bool) -> Sample:
    return Sample("vc-1", probe, good, at, error=None if good else "no answer")


def up_seconds(transitions: list[Transition], end: float) -> float:
    total, state, since = 0.0, State.UNKNOWN, 0.0
    for transition in transitions:
        if state == State.UP:
            total += transition.at - since
        state, since = transition.state, transition.at
    return total + (end - since if state == State.UP else 0.0)


def test_a_late_probe_never_dates_up_before_the_recorded_down() -> None:
    """The phantom downtime of any(icmp, sip): icmp's round says down at 100 while sip's last word
    (at 60) was down too, then sip's round, which began at 90, says the terminal answered at 95.
    Nothing is recorded before sip has spoken for 100, so the terminal is never taken as down."""
    fleet = FleetState(terminal())
    seen = fleet.observe([ok("icmp", 0, True)]) + fleet.observe([ok("sip", 0, True)])
    seen += fleet.observe([ok("sip", 60, False)])  # sip down, icmp still up: online
    seen += fleet.observe([ok("icmp", 100, False)])  # icmp down; sip not heard since 60: undecided
    assert fleet.device("vc-1", 100).state == State.UP
    seen += fleet.observe([ok("sip", 95, True)])  # a sip round that finished after icmp's
    seen += fleet.observe([ok("icmp", 130, False), ok("sip", 150, False), ok("icmp", 160, False)])  # both down from 150
    assert [(t.state, t.at) for t in seen] == [(State.UP, 0), (State.DOWN, 150)]
    assert up_seconds(seen, 200) == 150  # no phantom downtime before the real outage


# -- the property --------------------------------------------------------------------------


@dataclass
class Round:
    probe: str
    ts: float
    finished: float
    ok: bool


def reference_up_seconds(rounds: list[Round], rule: str, down_after: int, up_after: int, end: float) -> float:
    """Each probe debounced over its own samples in time order, the rule evaluated over time (while
    it cannot be decided, a probe not confirmed yet, the device keeps its state): the truth the
    ledger must integrate to, computed without the tracker."""
    changes: list[tuple[float, str, bool]] = []
    for probe in ("icmp", "sip"):
        confirmed, streak_value, streak, start = None, None, 0, 0.0
        for r in sorted((r for r in rounds if r.probe == probe), key=lambda r: r.ts):
            if r.ok is streak_value:
                streak += 1
            else:
                streak_value, streak, start = r.ok, 1, r.ts
            if confirmed is not r.ok and streak >= (up_after if r.ok else down_after):
                confirmed = r.ok
                changes.append((start, probe, r.ok))
    values: dict[str, bool] = {}
    total, last, value = 0.0, 0.0, None
    for at, probe, good in sorted(c for c in changes if c[0] <= end):
        if value:
            total += at - last
        values[probe] = good
        known = [values.get("icmp"), values.get("sip")]
        if rule == "any":
            decided = True if True in known else (None if None in known else False)
        else:
            decided = False if False in known else (None if None in known else True)
        value = value if decided is None else decided
        last = at
    return total + (end - last if value else 0.0)


def final_until(rounds: list[Round], probe: str, down_after: int, up_after: int) -> float:
    """The probe's newest sample, or the start of a trailing streak that is not confirmed yet."""
    mine = sorted((r for r in rounds if r.probe == probe), key=lambda r: r.ts)
    confirmed, run_start, run = None, 0, 0
    for index, r in enumerate(mine):
        run_start, run = (run_start, run + 1) if index and r.ok is mine[index - 1].ok else (index, 1)
        if confirmed is not r.ok and run >= (up_after if r.ok else down_after):
            confirmed = r.ok
    if mine[-1].ok is not confirmed:
        return mine[run_start].ts - 1e-6
    return mine[-1].ts


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, int, int, list[Round]]:
    rule = draw(st.sampled_from(["any", "all"]))
    down_after, up_after = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rounds = []
    for probe in ("icmp", "sip"):
        interval = draw(st.sampled_from([10, 20, 30, 60]))
        count = draw(st.integers(1, 240 // interval))
        outcomes = draw(st.lists(st.booleans(), min_size=count, max_size=count))
        for k, good in enumerate(outcomes):
            started = k * interval + draw(st.integers(0, interval // 2))
            # a round's samples reach the tracker when the round ends; one collector's rounds never overlap
            finished = started + draw(st.floats(0, interval / 2 - 0.01))
            rounds.append(Round(probe, started, finished, good))
    return rule, down_after, up_after, rounds


@settings(max_examples=300, deadline=None)
@given(histories())
def test_transitions_only_move_forward_and_integrate_to_the_samples_truth(history) -> None:
    rule, down_after, up_after, rounds = history
    fleet = FleetState(terminal(f"{rule}(icmp, sip)", down_after, up_after))
    transitions: list[Transition] = []
    for r in sorted(rounds, key=lambda r: r.finished):
        transitions += fleet.observe([ok(r.probe, r.ts, r.ok)])
    times = [t.at for t in transitions]
    assert times == sorted(times), transitions
    assert all(t.state != t.previous for t in transitions)
    # up to where every probe's timeline is final, the ledger integrates to the samples' truth
    horizon = min(final_until(rounds, probe, down_after, up_after) for probe in ("icmp", "sip"))
    upto = [t for t in transitions if t.at <= horizon]
    assert abs(up_seconds(upto, horizon) - reference_up_seconds(rounds, rule, down_after, up_after, horizon)) < 1e-9
