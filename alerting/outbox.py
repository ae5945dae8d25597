"""The durable outbox: rendered messages in the store, delivered in order per channel.

A message is in ``alert_outbox`` before any delivery is tried (the dispatcher writes it in the
transaction that consumes its notices) and is marked ``sent`` only after the platform said
yes (``errcode == 0`` and friends). A failure (HTTP 500, timeout, ``errcode != 0``) keeps it
pending with ``next_attempt`` pushed back exponentially (``backoff_seconds`` doubling up to
``backoff_max_seconds``; at least a minute when the platform says "too many"); nothing is
ever dropped, and because the schedule is in the store, retries continue across restarts.

Order: per channel, the oldest pending message goes first and a failing one holds the ones
behind it (a recovery never overtakes its alert).

Rate limits: every attempt is logged in ``alert_attempts``; a channel sends only while fewer
than ``rate_per_minute`` attempts were made in the last 60 s, so a restart does not burst.

At-least-once: if the agent dies after the platform accepted a message but before the row is
marked (a few milliseconds: one SQLite commit), that one message is sent again after the
restart. At most one message per channel can be in that window (one in flight per channel).
Webhook receivers get the same ``X-Yunwei-Message-Id`` on the repeat.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable

from alerting.config import OutboxSettings
from alerting.notifiers.base import DeliveryError, Notifier, Payload
from store.db import Store
from store.outbox import OutboxStore

log = logging.getLogger("yunwei.alerting.outbox")

CRASH_ENV = "YUNWEI_ALERTING_CRASH"  # test hook: "before_send[:n]" / "after_send[:n]" → SIGKILL self
_crash_counts: dict[str, int] = {}


def _crash_point(name: str) -> None:
    """Kill this process with SIGKILL at a named point, when the test hook asks for it."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _crash_counts[name] = _crash_counts.get(name, 0) + 1
    if _crash_counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


class Outbox:
    """Delivers pending messages; safe to call from one thread per channel. Its rows: ``messages``."""

    def __init__(
        self,
        store: Store,
        notifiers: dict[str, Notifier],
        settings: OutboxSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.messages = OutboxStore(store)
        self.notifiers = notifiers
        self.settings = settings or OutboxSettings()
        self.clock = clock
        self.stopping = False  # set on shutdown: finish the message in flight, start no other
        self._warned_unknown: set[str] = set()

    # -- delivering -----------------------------------------------------------------------

    def backoff(self, attempts: int, throttled: bool) -> float:
        delay = min(self.settings.backoff_seconds * 2 ** max(0, attempts - 1), self.settings.backoff_max_seconds)
        return max(delay, 60.0) if throttled else delay

    def deliver_channel(self, channel: str, limit: int | None = None) -> int:
        """Send this channel's due messages in order until one fails, the rate limit is hit or none is due."""
        notifier = self.notifiers.get(channel)
        if notifier is None:
            if channel not in self._warned_unknown:
                self._warned_unknown.add(channel)
                log.warning("outbox: messages for channel %r wait: it is not configured any more", channel)
            return 0
        sent = 0
        while (limit is None or sent < limit) and not self.stopping:
            now = self.clock()
            head = self.messages.head(channel)
            if head is None:
                break
            if head.next_attempt > now:
                break
            if self.messages.attempts_in_last_minute(channel, now) >= notifier.rate_per_minute:
                break
            attempt = self.messages.begin_attempt(channel, head.id, now)
            _crash_point("before_send")
            try:
                detail = notifier.send(Payload.from_json(head.payload))
            except DeliveryError as exc:
                delay = self.backoff(head.attempts + 1, exc.throttled)
                self.messages.retry_later(head.id, now + delay, exc.detail[:500], failed_attempt=attempt)
                log.warning("outbox: %s message %d not delivered (%s); retry in %.0f s", channel, head.id, exc.detail, delay)
                break
            except Exception as exc:  # a notifier bug must not kill the loop; keep the message
                delay = self.backoff(head.attempts + 1, False)
                self.messages.retry_later(head.id, now + delay, f"{type(exc).__name__}: {exc}"[:500])
                log.exception("outbox: %s message %d failed unexpectedly", channel, head.id)
                break
            _crash_point("after_send")
            self.messages.mark_sent(head.id, self.clock(), attempt, detail[:200])
            sent += 1
        return sent

    def deliver_due(self) -> int:
        """Every channel once, one after the other (tests and the CLI; the daemon uses threads)."""
        return sum(self.deliver_channel(channel) for channel in self.messages.channels_pending())

    def prune(self) -> int:
        """Forget sent messages older than ``keep_days`` and attempts older than a day."""
        now = self.clock()
        return self.messages.prune(sent_before=now - self.settings.keep_days * 86400, attempts_before=now - 86400)
