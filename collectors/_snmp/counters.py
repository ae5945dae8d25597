"""Counter arithmetic between rounds: wrap, reset and missed rounds; reboot from sysUpTime.

- A counter that went down wrapped once if the wrapped increase is plausible (within the
  interface's speed, or within ``MAX_PLAUSIBLE_BPS`` when the speed is unknown); otherwise it
  was reset (cleared, interface re-created, device rebooted) and this round has no rate.
- A reboot (detected from sysUpTime) always means reset: no rate this round, a new baseline.
- A missed round (the device timed out) keeps the last good reading; the next rate is the
  average over the longer gap. A baseline older than ``max_age`` is dropped, and a 32-bit
  counter older than its fastest possible wrap is not trusted.
- sysUpTime is TimeTicks (hundredths of a second, 32 bits): it wraps after 497.1 days. Uptime
  that went back by about 2^32 ticks where the clock says it should have passed 2^32 is a
  wrap, not a reboot.
"""

from __future__ import annotations

from dataclasses import dataclass

TICKS_WRAP = 2**32
MAX_PLAUSIBLE_BPS = 4e11  # 400 Gbit/s: no single interface moves more


@dataclass(slots=True)
class Reading:
    value: int
    at: float


def counter_increase(previous: int, current: int, bits: int, max_increase: float | None) -> int | None:
    """How much a counter grew between two readings; None when it was reset (unknowable)."""
    increase = current - previous if current >= previous else current + 2**bits - previous
    if max_increase is not None and increase > max_increase:
        return None
    return increase


class CounterSet:
    """Last readings of one device's counters, and rates from them."""

    def __init__(self, max_age: float = 3600.0) -> None:
        self.max_age = max_age
        self.readings: dict[str, Reading] = {}

    def reset(self) -> None:
        self.readings.clear()

    def rate(
        self, key: str, value: int, at: float, bits: int = 64, max_per_second: float | None = None
    ) -> float | None:
        """Per-second increase since the last reading of ``key``, and remember this one.

        None on the first reading, after a reset, or when the baseline is too old to trust.
        """
        previous = self.readings.get(key)
        self.readings[key] = Reading(value, at)
        if previous is None:
            return None
        elapsed = at - previous.at
        if elapsed <= 0 or elapsed > self.max_age:
            return None
        if bits == 32 and max_per_second and elapsed * max_per_second >= 2**32:
            return None  # could have wrapped more than once
        limit = max_per_second * elapsed * 1.05 + 1 if max_per_second else None
        increase = counter_increase(previous.value, value, bits, limit)
        if increase is None:
            return None
        return increase / elapsed

    def delta(self, key: str, value: int, at: float, bits: int = 32) -> int | None:
        """Increase since the last reading (error and discard counts per round)."""
        previous = self.readings.get(key)
        self.readings[key] = Reading(value, at)
        if previous is None or at - previous.at > self.max_age:
            return None
        if value < previous.value and previous.value < 2**bits - 2**(bits - 4):
            return None  # went down far from the top: a reset, not a wrap
        return counter_increase(previous.value, value, bits, None)

    def forget_older_than(self, cutoff: float) -> None:
        for key in [k for k, r in self.readings.items() if r.at < cutoff]:
            del self.readings[key]


def rebooted(previous: Reading | None, ticks: int, at: float, tolerance: float = 10.0) -> bool:
    """Whether sysUpTime ``ticks`` read at ``at`` shows a restart since ``previous``.

    The uptime must have advanced by about the wall-clock time between the readings; less
    than that (by more than ``tolerance`` seconds plus 1 %) means the agent restarted. An
    expected value past 2^32 ticks is compared after the 497-day wrap.
    """
    if previous is None:
        return False
    elapsed_ticks = max(0.0, at - previous.at) * 100
    expected = previous.value + elapsed_ticks
    slack = (tolerance + 0.01 * (at - previous.at)) * 100
    if expected >= TICKS_WRAP and ticks < previous.value:
        expected -= TICKS_WRAP
    return ticks + slack < expected
