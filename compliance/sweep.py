"""A group's sweep over its members' state changes, in numpy: the same figures as the loop it
replaced (one Python step per change point of 50,000 devices took seconds), operation for operation.

Between two change points the counts of devices online and known are constant; the segments are
cut at every change and at every local midnight. Counts are integer cumulative sums (exact); the
per-day sums ``online × span`` and the seconds below a threshold are added one segment after the
other with ``cumsum`` (sequential, as the loop added them: no pairwise summation, which would
change the last bits). The worst instant is the first segment with the lowest online / known:
two different fractions with denominators ≤ 2^26 never round to the same double, so comparing
the quotients orders them exactly as the cross-multiplied integers did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np


@dataclass
class Swept:
    day_online: list[float]
    day_known: list[float]
    worst: tuple[int, int, float] | None = None  # online, known, at
    seconds_below: float = 0.0
    episodes: list[list[float]] = field(default_factory=list)  # [start, end, worst_online, worst_known, threshold]


def sweep(
    times: list[float],
    online_deltas: list[int],
    known_deltas: list[int],
    counts: tuple[int, int],
    start: float,
    day_ends: list[float],
    day_thresholds: list[float | None],
) -> Swept:
    """``counts`` are (online, known) at ``start``; each change at ``times[i]`` adds its deltas.
    ``day_ends`` are the ends of the days to sweep (the last one cut at the report's end)."""
    days = len(day_ends)
    result = Swept([0.0] * days, [0.0] * days)
    if not days:
        return result
    final = day_ends[-1]
    order = np.argsort(np.asarray(times, dtype=np.float64), kind="stable")
    event_times = np.asarray(times, dtype=np.float64)[order]
    online_sum = np.concatenate(([0], np.cumsum(np.asarray(online_deltas, dtype=np.int64)[order])))
    known_sum = np.concatenate(([0], np.cumsum(np.asarray(known_deltas, dtype=np.int64)[order])))
    inside = event_times[(event_times > start) & (event_times < final)]
    bounds = np.unique(np.concatenate(([start], inside, np.asarray(day_ends, dtype=np.float64))))
    starts = bounds[:-1]
    spans = np.diff(bounds)
    applied = np.searchsorted(event_times, starts, side="right")  # changes at or before each segment's start
    online = counts[0] + online_sum[applied]
    known = counts[1] + known_sum[applied]
    day_of = np.searchsorted(np.asarray(day_ends, dtype=np.float64), starts, side="right")
    first_of_day = np.searchsorted(day_of, np.arange(days + 1), side="left")
    online_seconds = online * spans
    known_seconds = known * spans
    for d in range(days):
        a, b = first_of_day[d], first_of_day[d + 1]
        if b > a:
            result.day_online[d] = float(np.cumsum(online_seconds[a:b])[-1])
            result.day_known[d] = float(np.cumsum(known_seconds[a:b])[-1])

    observed = known > 0
    if not observed.any():
        return result
    quotient = np.where(observed, online / np.where(observed, known, 1), np.inf)
    worst = int(np.argmin(quotient))
    result.worst = (int(online[worst]), int(known[worst]), float(starts[worst]))

    fractions = [Fraction(str(v)) if v is not None else None for v in day_thresholds]
    numerator = np.array([f.numerator if f is not None else 0 for f in fractions], dtype=np.int64)[day_of]
    denominator = np.array([f.denominator if f is not None else 0 for f in fractions], dtype=np.int64)[day_of]
    judged = np.array([f is not None for f in fractions], dtype=bool)[day_of]
    scale = max([abs(f.numerator) + f.denominator for f in fractions if f is not None], default=0)
    if scale * (int(known.max()) + 1) >= 2**62:  # a threshold written with ~15 digits: Python ints, never overflowing
        online, known = online.astype(object), known.astype(object)
        numerator, denominator = numerator.astype(object), denominator.astype(object)
    below = observed & judged & (online * denominator < numerator * known).astype(bool)
    if not below.any():
        return result
    result.seconds_below = float(np.cumsum(spans[below])[-1])
    edges = np.diff(np.concatenate(([0], below.astype(np.int8), [0])))
    for a, b in zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True):
        worst = a + int(np.argmin(quotient[a:b]))
        threshold = max(day_thresholds[d] or 0.0 for d in range(int(day_of[a]), int(day_of[b - 1]) + 1))
        result.episodes.append([float(bounds[a]), float(bounds[b]), int(online[worst]), int(known[worst]), threshold])
    return result
