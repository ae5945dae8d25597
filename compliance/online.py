"""Online rates from state intervals: per device, per group, and the group's rate at every instant.

A device's time in the period is split into up, down, maintenance and unknown. Unknown is time
before its first state, ``unknown`` states, and time the agent watching it was not running; it
is left out of the rate and reported. Maintenance is left out too (or counted online/offline,
as the contract says). The rate is online seconds / observed seconds.

A group's rate over the period is time-weighted: the sum of its devices' online seconds over the
sum of their observed seconds. Its instantaneous rate (devices up / devices observed at that
moment) is piecewise constant between state changes; one sweep over all its members' changes,
sorted, gives it exactly: the worst instant, the time spent below the threshold in force (an
important period's own threshold where one applies), and the separate breach episodes.
Daily rates come from the same sweep, split at local midnights; an important period (whole
local days) is judged on the sum of its days.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from compliance.contract import OnlineSettings
from compliance.ledger import Interval, Ledger, merge_intervals
from compliance.periods import Period
from compliance.scope import GroupScope
from compliance.sweep import sweep
from core.timefmt import day_start
from inventory.models import ImportantPeriod

UNKNOWN, UP, DOWN, MAINTENANCE = 0, 1, 2, 3
CODES = {"unknown": UNKNOWN, "up": UP, "down": DOWN, "maintenance": MAINTENANCE}
Changes = list[tuple[float, int]]
_Events = tuple[list[float], list[int], list[int]]


@dataclass(slots=True)
class DeviceRate:
    device: str
    up: float = 0.0
    down: float = 0.0
    maintenance: float = 0.0
    unknown: float = 0.0
    outages: int = 0

    def online_observed(self, maintenance: str) -> tuple[float, float]:
        if maintenance == "online":
            return self.up + self.maintenance, self.up + self.down + self.maintenance
        if maintenance == "offline":
            return self.up, self.up + self.down + self.maintenance
        return self.up, self.up + self.down

    def rate(self, maintenance: str) -> float | None:
        online, observed = self.online_observed(maintenance)
        return online / observed if observed > 0 else None


@dataclass
class Episode:
    start: float
    end: float
    worst_rate: float
    threshold: float


@dataclass
class WindowRate:
    name: str
    first: date
    last: date
    threshold: float
    online: float = 0.0
    observed: float = 0.0

    @property
    def rate(self) -> float | None:
        return self.online / self.observed if self.observed > 0 else None

    @property
    def met(self) -> bool | None:
        if self.observed <= 0:
            return None
        return Fraction(self.online) >= Fraction(str(self.threshold)) * Fraction(self.observed)


@dataclass
class GroupRate:
    id: str
    name: str
    devices: int
    threshold: float | None
    online: float = 0.0
    observed: float = 0.0
    unknown: float = 0.0
    maintenance: float = 0.0
    worst_at: float | None = None
    worst_online: int = 0
    worst_known: int = 0
    seconds_below: float = 0.0
    episodes: list[Episode] = field(default_factory=list)
    windows: list[WindowRate] = field(default_factory=list)
    daily: list[tuple[date, float, float, float | None]] = field(default_factory=list)  # day, online, observed, threshold

    @property
    def rate(self) -> float | None:
        return self.online / self.observed if self.observed > 0 else None

    @property
    def base_met(self) -> bool | None:
        if self.threshold is None or self.observed <= 0:
            return None
        return Fraction(self.online) >= Fraction(str(self.threshold)) * Fraction(self.observed)

    @property
    def met(self) -> bool | None:
        base = self.base_met
        if base is None:
            return None
        return base and all(w.met is not False for w in self.windows)


@dataclass
class OnlineResult:
    groups: list[GroupRate]
    devices: dict[str, DeviceRate]
    end: float


# -- one device --------------------------------------------------------------------------------


def device_changes(
    states: list[tuple[float, str]],
    coverage: list[Interval] | None,
    start: float,
    end: float,
    maintenance: list[Interval] | None = None,
) -> Changes:
    """The device's effective state from ``start`` to ``end`` as change points ``(time, code)``.

    Planned maintenance windows override up and down; time outside the agent's runs is
    unknown whatever else was recorded."""
    index = bisect_right(states, (start, "\uffff")) - 1
    current = CODES[states[index][1]] if index >= 0 else UNKNOWN
    points: Changes = [(start, current)]
    last_at, last_code = start, current  # points[-1], kept in locals (50,000 devices)
    for at, state in states[index + 1:]:
        if at >= end:
            break
        code = CODES[state]
        if code == last_code:
            continue
        if at == last_at:
            points[-1] = (at, code)
            if len(points) > 1 and points[-2][1] == code:
                points.pop()
            last_at, last_code = points[-1]
        else:
            points.append((at, code))
            last_at, last_code = at, code
    if maintenance:
        points = _apply_maintenance(points, maintenance, start, end)
    if coverage is None:
        return points
    return _apply_gaps(points, coverage_gaps(coverage, start, end), end)


def _apply_maintenance(points: Changes, windows: list[Interval], start: float, end: float) -> Changes:
    """Up/down time inside the maintenance windows becomes maintenance (unknown stays unknown)."""
    for window_start, window_end in merge_intervals(windows):
        if window_end <= start or window_start >= end:
            continue
        overlaid: Changes = []
        for index, (t, code) in enumerate(points):
            following = points[index + 1][0] if index + 1 < len(points) else end
            inside = MAINTENANCE if code in (UP, DOWN) else code
            for piece_start, piece_end, piece_code in (
                (t, min(following, window_start), code),
                (max(t, window_start), min(following, window_end), inside),
                (max(t, window_end), following, code),
            ):
                if piece_start < piece_end and (not overlaid or overlaid[-1][1] != piece_code):
                    overlaid.append((piece_start, piece_code))
        points = overlaid
    return points


def coverage_gaps(coverage: list[Interval], start: float, end: float) -> list[Interval]:
    """The gaps between the agent's runs inside ``[start, end)`` (few: restarts), computed once per
    set of agents rather than once per device."""
    gaps: list[Interval] = []
    cursor = start
    for run_start, run_end in coverage:
        if run_end <= cursor or run_start >= end:
            continue
        if run_start > cursor:
            gaps.append((cursor, min(run_start, end)))
        cursor = max(cursor, run_end)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def _apply_gaps(points: Changes, gaps: list[Interval], end: float) -> Changes:
    """States outside the agent's runs become unknown: each gap is cut in with two bisections and
    one slice assignment (``points`` is the caller's own list, changed in place)."""
    for gap_start, gap_end in gaps:
        before = bisect_left(points, (gap_start,))  # (t,) sorts before every (t, code)
        last = bisect_right(points, (gap_end, MAINTENANCE + 1)) - 1  # and (t, 4) after them
        resumed = points[last][1] if last >= 0 else UNKNOWN
        cut: Changes = []
        if not before or points[before - 1][1] != UNKNOWN:
            cut.append((gap_start, UNKNOWN))
        if gap_end < end:
            cut.append((gap_end, resumed))
        points[before:last + 1] = cut
    return points


def _walk(
    device: str, points: Changes, end: float, weights: tuple[tuple[int, ...], tuple[int, ...]], events: _Events
) -> tuple[DeviceRate, int, int]:
    """One pass over a device's change points: its totals, its (online, offline) weight at the start,
    and the changes of that weight appended to ``events`` (times, online deltas, known deltas)."""
    online_by_code, offline_by_code = weights
    times, online_deltas, known_deltas = events
    totals = [0.0, 0.0, 0.0, 0.0]
    outages = 0
    t, code = points[0]
    first_on = was_on = online_by_code[code]
    first_off = was_off = offline_by_code[code]
    for index in range(1, len(points)):
        following, next_code = points[index]
        totals[code] += following - t
        if code == DOWN:
            outages += 1
        on, off = online_by_code[next_code], offline_by_code[next_code]
        if on != was_on or off != was_off:
            times.append(following)
            online_deltas.append(on - was_on)
            known_deltas.append(on + off - was_on - was_off)
            was_on, was_off = on, off
        t, code = following, next_code
    totals[code] += end - t
    if code == DOWN:
        outages += 1
    rate = DeviceRate(device, up=totals[UP], down=totals[DOWN], maintenance=totals[MAINTENANCE],
                      unknown=totals[UNKNOWN], outages=outages)
    return rate, first_on, first_off


# -- thresholds over time ------------------------------------------------------------------------


def important_windows(periods: list[ImportantPeriod], period: Period) -> list[tuple[str, date, date, float]]:
    """The important periods that touch ``period`` as ``(name, first, last, threshold)``, clipped to it."""
    result = []
    for item in periods:
        years = [item.start.year] if not item.yearly else range(period.first.year - 1, period.last.year + 1)
        span = item.end - item.start
        for year in years:
            try:
                first = item.start.replace(year=year)
            except ValueError:  # 29 February in a common year
                first = item.start.replace(year=year, day=28)
            last = first + span
            if last < period.first or first > period.last:
                continue
            result.append((item.name or f"{first.isoformat()}..{last.isoformat()}", max(first, period.first),
                           min(last, period.last), item.threshold))
    result.sort(key=lambda w: (w[1], w[0]))
    return result


def _threshold_by_day(base: float | None, windows: list[tuple[str, date, date, float]], period: Period) -> list[float | None]:
    values: list[float | None] = []
    for day in period.days():
        value = base
        for _, first, last, threshold in windows:
            if first <= day <= last:
                value = threshold if value is None else max(value, threshold)
        values.append(value)
    return values


# -- a group ------------------------------------------------------------------------------------


def group_rate(
    group: GroupScope,
    changes_of: Callable[[str], Changes],
    devices: dict[str, DeviceRate],
    period: Period,
    end: float,
    settings: OnlineSettings,
) -> GroupRate:
    """One sweep over the members' state changes (``end`` is the period end or now, if earlier);
    the members' rates go into ``devices`` (a device's first group computes it)."""
    maintenance = {"exclude": (0, 0), "online": (1, 0), "offline": (0, 1)}[settings.maintenance]
    weights = ((0, 1, 0, maintenance[0]), (0, 0, 1, maintenance[1]))  # indexed by UNKNOWN, UP, DOWN, MAINTENANCE
    result = GroupRate(group.id, group.name, len(group.members), group.threshold)
    online = known = 0
    times: list[float] = []
    online_deltas: list[int] = []
    known_deltas: list[int] = []
    for member in group.members:
        rate, first_on, first_off = _walk(member, changes_of(member), end, weights, (times, online_deltas, known_deltas))
        rate = devices.setdefault(member, rate)
        result.unknown += rate.unknown
        result.maintenance += rate.maintenance
        online += first_on
        known += first_on + first_off

    days = period.days()
    windows = important_windows(group.important_periods, period)
    day_thresholds = _threshold_by_day(group.threshold, windows, period)
    day_bounds = [day_start(day, period.tz) for day in days] + [period.end]
    swept_days = sum(1 for d in range(len(days)) if day_bounds[d] < end)
    swept = sweep(times, online_deltas, known_deltas, (online, known), period.start,
                  [min(day_bounds[d + 1], end) for d in range(swept_days)], day_thresholds[:swept_days])
    day_online = swept.day_online + [0.0] * (len(days) - swept_days)
    day_known = swept.day_known + [0.0] * (len(days) - swept_days)
    result.seconds_below = swept.seconds_below
    worst = swept.worst
    episodes = swept.episodes

    result.online = sum(day_online)
    result.observed = sum(day_known)
    if worst is not None:
        result.worst_online, result.worst_known, result.worst_at = worst
    result.episodes = _merge_episodes(episodes, settings)
    result.daily = [(days[d], day_online[d], day_known[d], day_thresholds[d]) for d in range(len(days))
                    if day_bounds[d] < end]
    for name, first, last, threshold in windows:
        window = WindowRate(name, first, last, threshold)
        for d, day in enumerate(days):
            if first <= day <= last:
                window.online += day_online[d]
                window.observed += day_known[d]
        result.windows.append(window)
    return result


def _merge_episodes(raw: list[list[float]], settings: OnlineSettings) -> list[Episode]:
    merged: list[list[float]] = []
    for item in raw:
        if merged and item[0] - merged[-1][1] <= settings.merge_gap_seconds:
            last = merged[-1]
            last[1] = item[1]
            if item[2] * last[3] < last[2] * item[3]:
                last[2], last[3] = item[2], item[3]
            last[4] = max(last[4], item[4])
        else:
            merged.append(list(item))
    return [
        Episode(start, end_, online / known if known else 0.0, threshold)
        for start, end_, online, known, threshold in merged
        if end_ - start >= settings.min_episode_seconds
    ]


def compute_online(
    ledger: Ledger, groups: list[GroupScope], period: Period, now: float, settings: OnlineSettings
) -> OnlineResult:
    """Rates of every device in a group and of every group, for ``period`` up to ``now``."""
    end = min(period.end, max(now, period.start))
    devices: dict[str, DeviceRate] = {}
    gaps_cache: dict[frozenset[str], list[Interval] | None] = {}

    def changes_of(device: str) -> Changes:
        agents = ledger.device_agents.get(device, frozenset())
        if agents not in gaps_cache:
            coverage = ledger.coverage(device)
            gaps_cache[agents] = None if coverage is None else coverage_gaps(coverage, period.start, end)
        points = device_changes(ledger.states.get(device, []), None, period.start, end, ledger.maintenance.get(device))
        gaps = gaps_cache[agents]
        return points if gaps is None else _apply_gaps(points, gaps, end)

    # a device's change points live while its group is swept: a 50,000-device month never holds them all
    rates = [group_rate(group, changes_of, devices, period, end, settings) for group in groups]
    return OnlineResult(rates, dict(sorted(devices.items())), end)
