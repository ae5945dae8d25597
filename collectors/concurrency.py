"""How many probes of one round run at once: enough for the round to fit its interval, within
the process's open-file limit and a memory budget.

The rule (docs/bounds.md): in the worst case every probe runs to its timeout, so a round of
``n`` targets with timeout ``t`` run ``c`` at a time lasts ``ceil(n / c) × t``. To finish within
``FILL`` of the interval ``i`` (the rest is for recording and jitter) a round needs
``c = ceil(n / floor(FILL × i / t))``: targets × timeout ÷ interval, counted in whole waves.
It never runs fewer than the collector's floor (healthy probes finish fast; more at once ends
the round sooner), and never more than the sockets and memory allow:

- sockets: the soft RLIMIT_NOFILE less the descriptors already open and a reserve for the
  store, logs and the web console (``yunwei run`` raises the soft limit to the hard one);
- memory: ``MEMORY_BUDGET`` (or a quarter of MemAvailable, if less) divided by what one probe
  may hold (``Collector.memory_per_probe``, e.g. 2 MiB of page for the http probe).

When the needed concurrency is above a limit (or one timeout is longer than the interval) the
round cannot fit: the plan says why, the collector logs it once (and once when it fits again),
and ``/healthz`` lists it.
"""

from __future__ import annotations

import math
import os
import resource
from dataclasses import dataclass
from pathlib import Path

FILL = 0.8  # the share of the interval a worst-case round may take
RESERVED_FILES = 64  # descriptors kept free for the store, logs, the web console
MEMORY_BUDGET = 512 * 1024 * 1024  # bytes all probes of one round may hold at once


@dataclass(frozen=True)
class RoundPlan:
    """The concurrency of one round and whether the round fits its interval."""

    collector: str
    interval: float
    targets: int
    timeout: float
    needed: int  # probes at once for a worst-case round to fit
    concurrency: int  # probes at once, as run
    fits: bool
    why: str | None  # when it does not fit: what limits it, in words an engineer can act on
    limit: str | None = None  # "timeout", "open files" or "memory": what keeps it from fitting

    @property
    def worst_case_seconds(self) -> float:
        """How long a round lasts if every probe runs to its timeout."""
        if not self.targets:
            return 0.0
        return math.ceil(self.targets / max(1, self.concurrency)) * self.timeout


def open_files_available() -> tuple[int, int]:
    """(descriptors this process may still open, its soft RLIMIT_NOFILE)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:
        in_use = 32
    limit = soft if soft != resource.RLIM_INFINITY else 1 << 20
    return max(1, limit - in_use - RESERVED_FILES), limit


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (systemd's default soft limit is 1024);
    returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # a container may refuse; the plan reads whatever is in force
    return soft


def memory_budget() -> int:
    """Bytes one round's probes may hold: MEMORY_BUDGET, or a quarter of MemAvailable if less."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return min(MEMORY_BUDGET, int(line.split()[1]) * 1024 // 4)
    except (OSError, ValueError, IndexError):
        pass
    return MEMORY_BUDGET


def plan_round(
    collector: str,
    interval: float,
    timeouts: list[float],
    floor: int,
    memory_per_probe: int,
    files_available: int,
    files_limit: int,
    memory: int,
) -> RoundPlan:
    """The concurrency of a round of ``len(timeouts)`` probes (pure: limits are arguments)."""
    count = len(timeouts)
    timeout = max(timeouts, default=0.0)
    if count == 0:
        return RoundPlan(collector, interval, 0, 0.0, 0, 0, True, None)
    waves = math.floor(FILL * interval / timeout) if timeout > 0 else count
    needed = math.ceil(count / max(1, waves))
    by_files = files_available
    by_memory = max(1, memory // max(1, memory_per_probe))
    concurrency = min(count, by_files, by_memory, max(needed, floor))
    why = limit = None
    if waves < 1:
        limit = "timeout"
        why = (
            f"the probe timeout ({timeout:g} s) does not fit in {FILL:.0%} of the interval ({interval:g} s):"
            " shorten the timeout or lengthen the interval"
        )
    elif needed > by_files:
        limit = "open files"
        why = (
            f"{count} targets × {timeout:g} s timeout need {needed} probes at once to fit {interval:g} s;"
            f" the open-file limit allows {by_files} (RLIMIT_NOFILE {files_limit}: raise LimitNOFILE)"
        )
    elif needed > by_memory:
        limit = "memory"
        why = (
            f"{count} targets × {timeout:g} s timeout need {needed} probes at once to fit {interval:g} s;"
            f" the memory budget ({memory // (1024 * 1024)} MiB, {memory_per_probe // 1024} KiB a probe) allows {by_memory}"
        )
    return RoundPlan(collector, interval, count, timeout, needed, concurrency, why is None, why, limit)
