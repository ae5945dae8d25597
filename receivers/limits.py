"""Per-source rate limiting and the counters every receiver keeps.

A token bucket per source address (``rate`` per second, ``burst`` at once), checked before a
message is decoded, so a flooding device costs a dictionary lookup per datagram and cannot
crowd out the others. The table of sources is bounded (least recently seen forgotten first).
A source that starts being limited is logged once; when it calms down one line says how many
of its messages were dropped.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("yunwei.receivers")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float
    dropped: int = 0  # in the current flood


class RateLimiter:
    def __init__(self, rate: float, burst: int, max_sources: int = 10000, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.max_sources, self.clock = rate, float(burst), max_sources, clock
        self.buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, source: str, what: str = "messages") -> bool:
        now = self.clock()
        bucket = self.buckets.get(source)
        if bucket is None:
            if len(self.buckets) >= self.max_sources:
                self.buckets.popitem(last=False)
            bucket = self.buckets[source] = _Bucket(self.burst, now)
        else:
            self.buckets.move_to_end(source)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        if bucket.tokens >= 1.0:
            if bucket.dropped and bucket.tokens >= self.burst / 2:
                log.warning("%s: flood over, %d %s were dropped (limit %g/s)", source, bucket.dropped, what, self.rate)
                bucket.dropped = 0
            bucket.tokens -= 1.0
            return True
        if bucket.dropped == 0:
            log.warning("%s sends more than %g %s/s: the excess is dropped and counted", source, self.rate, what)
        bucket.dropped += 1
        return False


@dataclass
class ReceiverStats:
    """What a receiver has seen since it started (shown by ``yunwei probe trap-listen`` and logs)."""

    received: int = 0
    events: int = 0
    malformed: int = 0
    oversized: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # reason → count (wrong community, unknown user …)
    rate_limited: int = 0
    queue_full: int = 0
    unknown_sources: Counter[str] = field(default_factory=Counter)  # address → messages (bounded)
    max_unknown: int = 1000

    def unknown(self, source: str, what: str) -> None:
        """Count a message from an address no device has; the first from each is logged."""
        if source in self.unknown_sources:
            self.unknown_sources[source] += 1
        elif len(self.unknown_sources) < self.max_unknown:
            self.unknown_sources[source] = 1
            log.info("%s from %s matches no device: stored without one (set the device's address)", what, source)

    def as_dict(self) -> dict[str, object]:
        return {
            "received": self.received,
            "events": self.events,
            "malformed": self.malformed,
            "oversized": self.oversized,
            "rejected": dict(self.rejected),
            "rate_limited": self.rate_limited,
            "queue_full": self.queue_full,
            "unknown_sources": dict(self.unknown_sources.most_common(20)),
        }
