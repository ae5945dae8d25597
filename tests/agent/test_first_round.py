"""The first round after a start: every transition is either counted in the one summary line or
logged on its own, never both, never neither; the summary comes once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.first_round import FirstRound, first_round_bound
from core.model import State, Transition

DEVICES = [f"d{i}" for i in range(8)]
step = st.tuples(st.sampled_from(DEVICES), st.sampled_from([State.UP, State.DOWN]), st.floats(0, 5))


@given(st.lists(st.lists(step, max_size=4), max_size=12), st.sets(st.sampled_from(DEVICES)))
def test_each_transition_is_counted_or_logged_exactly_once(rounds: list[list[tuple[str, State, float]]], known: set[str]) -> None:
    expected = [d for d in DEVICES if d not in known]
    first = FirstRound(expected, started=0.0, bound=30.0)
    states = {d: (State.UP if d in known else State.UNKNOWN) for d in DEVICES}
    now, logged, summaries, seen = 0.0, 0, 0, 0
    for batch in rounds:
        transitions = []
        for device, state, pause in batch:
            now += pause
            if states[device] != state:
                transitions.append(Transition(device, now, state, states[device], ""))
                states[device] = state
        seen += len(transitions)
        logged += len(first.take(transitions, now))
        summaries += first.finish_if_over(now)
    assert logged + len(first.up) + len(first.down) == seen
    assert summaries <= 1
    assert summaries == 1 or not first.done or not expected  # nothing unknown at start: no first round to tell
    if first.done:
        assert "first round:" in first.summary({})


def test_a_restart_with_every_state_known_has_no_summary() -> None:
    first = FirstRound([], started=0.0, bound=30.0)
    assert first.done and not first.finish_if_over(1.0)
    change = Transition("d0", 1.0, State.DOWN, State.UP, "")
    assert first.take([change], 1.0) == [change]


def test_the_bound_covers_the_slowest_group_and_its_debounce() -> None:
    # every group runs first within 5 s of the start; then re-probes (or whole intervals) confirm
    assert first_round_bound([60.0, 3600.0], up_after=2, down_after=3, retry_seconds=10, first_run_spread=5) == 5 + 3 * 10
    assert first_round_bound([60.0], up_after=2, down_after=3, retry_seconds=0, first_run_spread=5) == 5 + 3 * 60
