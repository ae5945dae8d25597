"""The agent's first round after start: devices leaving UNKNOWN are summarised, not listed.

A first start with 5,000 devices would otherwise log 5,000 ``unknown → up`` lines. Every
device with an in-round probe whose state is unknown when the agent starts is *expected*;
its transition out of UNKNOWN (confirmed after ``up_after``/``down_after`` samples, so over
the first round and its re-probes) is counted instead of logged. The first round is over when
every expected device is known, or at the latest ``bound`` seconds after start (a device that
never confirms a state must not hold the summary back): then one line is logged,
``first round: 180 up, 20 down (down: cam-001, …)``, and later transitions are logged one by
one as before. Alerting reads ``done`` and ``down`` to fold the faults found at start into one
chat message (alerting.startup).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.model import State, Transition

NAMES_IN_LINE = 10  # down devices named in the summary line; the rest are counted


class FirstRound:
    def __init__(self, expected: Iterable[str], started: float, bound: float) -> None:
        self.expected = set(expected)
        self.started = started
        self.bound = bound
        self.up: list[str] = []
        self.down: list[str] = []
        self.done = not self.expected  # a restart with every state known has no first round to tell

    def take(self, transitions: Iterable[Transition], now: float) -> list[Transition]:
        """Count this round's transitions out of UNKNOWN while the first round lasts; returns
        the transitions still to log one by one."""
        if self.done:
            return list(transitions)
        rest = []
        for transition in transitions:
            if transition.previous == State.UNKNOWN and transition.device in self.expected:
                self.expected.discard(transition.device)
                (self.down if transition.state == State.DOWN else self.up).append(transition.device)
            else:
                rest.append(transition)
        return rest

    def finish_if_over(self, now: float) -> bool:
        """True once, when the first round has just ended (the summary is due)."""
        if self.done or (self.expected and now < self.started + self.bound):
            return False
        self.done = True
        return True

    def summary(self, labels: Mapping[str, str]) -> str:
        """``first round: 180 up, 20 down (down: 东门-001, 东门-002, … 8 more); 3 not known yet``."""
        text = f"first round: {len(self.up)} up, {len(self.down)} down"
        if self.down:
            named = [labels.get(d, d) for d in sorted(self.down)[:NAMES_IN_LINE]]
            more = len(self.down) - len(named)
            text += f" (down: {', '.join(named)}{f', … {more} more' if more else ''})"
        if self.expected:
            text += f"; {len(self.expected)} not known yet"
        return text


def first_round_bound(
    intervals: Iterable[float], up_after: int, down_after: int, retry_seconds: float, first_run_spread: float
) -> float:
    """The longest the first round can take: every group's first run comes within
    ``first_run_spread`` of the start, then the samples its debounce needs (re-probes, or whole
    intervals where the interval is shorter than a re-probe)."""
    steps = [retry_seconds if 0 < retry_seconds < interval else interval for interval in intervals]
    return first_run_spread + max(up_after, down_after) * max(steps, default=0.0)


def expected_devices(device_ids: Iterable[str], states: Mapping[str, tuple[State, float]]) -> set[str]:
    """Devices whose state is unknown at start (none in the store)."""
    return {d for d in device_ids if State(states.get(d, (State.UNKNOWN, 0.0))[0]) == State.UNKNOWN}
