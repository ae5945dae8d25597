"""ICMP echo probe: loss %, min/avg/max RTT and jitter, one socket for the whole batch.

Each round sends ``count`` echoes to every target in passes, paced globally (``interval_ms``
between two echoes sent, like fping ``-i``) and per target (``period_ms`` between two echoes
to the same target, like fping ``-p``), so routers' ICMP rate limits do not fake outages.
A target is up when at least one echo came back. Pacing never stretches a round past half
its interval: with more echoes than fit, the spacing shrinks (and says so once in the log).

Privileges: a raw socket (root or CAP_NET_RAW), else the unprivileged ICMP socket allowed by
``net.ipv4.ping_group_range``; ``icmp_permission_problem()`` says which is missing.

Sample config::

    probes:
      icmp:
        count: 3          # echoes per target per round
        timeout: 2        # seconds to wait for each reply
        interval_ms: 1    # spacing between any two echoes sent (0: as fast as possible)
        period_ms: 1000   # spacing between two echoes to the same target
        size: 56          # payload bytes

For other collectors (the leased-line probe's smokeping-style bursts)::

    from collectors.icmp import PingRequest, PingStats, ping_many, ping_plan

    stats: dict[str, PingStats] = await ping_many(
        addresses, count=10, timeout=2.0, interval_ms=1.0, period_ms=1000.0, size=56
    )
    stats["10.1.0.1"].loss_percent, .rtt_min, .rtt_avg, .rtt_max, .jitter, .rtts, .sent,
    .received, .error, .summary()   # RTTs in seconds; rtt_* and jitter are None without replies

    # per-target counts, timeouts and sizes in one round: a list in, a list out (same order)
    results: list[PingStats] = await ping_plan([PingRequest("10.1.0.1", count=10, timeout=2, size=1472)])

Both share the process's raw socket with every concurrent round (each round has its own
identifiers) and never raise for device-side problems.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from collectors._icmp_engine import ping_many, ping_plan
from collectors._icmp_socket import icmp_permission_problem
from collectors._icmp_targets import YIELD_EVERY, PingRequest, PingStats
from collectors.base import JITTER, LOSS, RTT, RTT_MAX, RTT_MIN, Collector, Target
from collectors.registry import register
from core.metrics import MetricSpec
from core.model import Sample

__all__ = ["IcmpCollector", "IcmpOptions", "PingRequest", "PingStats", "icmp_permission_problem", "ping_many", "ping_plan"]

log = logging.getLogger("yunwei.icmp")

# Pacing may use at most this fraction of a round's interval; beyond it the spacing shrinks.
PACING_SHARE = 0.5


class IcmpOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(3, ge=1, le=1000, description="echoes per target per round")
    timeout: float = Field(2.0, gt=0, le=60, description="seconds to wait for each reply")
    interval_ms: float = Field(1.0, ge=0, le=10_000, description="spacing between any two echoes sent")
    period_ms: float = Field(1000.0, ge=0, le=60_000, description="spacing between two echoes to one target")
    size: int = Field(56, ge=0, le=65_000, description="payload bytes of each echo")
    address: str | None = None


@register
class IcmpCollector(Collector):
    """ICMP echo: loss %, RTT min/avg/max and jitter"""

    name = "icmp"
    metrics = (
        LOSS,
        MetricSpec("sent", help="Echoes sent in the burst"),
        MetricSpec("received", help="Echo replies received in the burst"),
        RTT,
        RTT_MIN,
        RTT_MAX,
        JITTER,
    )
    Options = IcmpOptions
    sample_config = "icmp:\n  count: 3\n  timeout: 2\n  interval_ms: 1\n  period_ms: 1000\n  size: 56\n"

    def __init__(self, context: Any = None) -> None:
        super().__init__(context)
        self._squeezed: set[tuple[float, float]] = set()

    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        """One round: every target's echoes over one socket per address family and pacing."""
        batches: dict[tuple[float, float], list[Target]] = defaultdict(list)
        for target in targets:
            options: IcmpOptions = target.options
            batches[(options.interval_ms, options.period_ms)].append(target)
        samples: list[Sample] = []
        for (interval_ms, period_ms), batch in batches.items():
            samples.extend(await self._round(batch, interval_ms, period_ms))
        return samples

    async def _round(self, batch: list[Target], interval_ms: float, period_ms: float) -> list[Sample]:
        requests = []
        for number, target in enumerate(batch):
            if number % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # 10,000 targets: let other rounds breathe
            options: IcmpOptions = target.options
            requests.append(PingRequest(target.address, options.count, options.timeout, options.size))
        interval_ms = self._fit_pacing(batch, requests, interval_ms)
        results = await ping_plan(requests, interval_ms=interval_ms, period_ms=period_ms)
        samples = []
        for number, (target, stats) in enumerate(zip(batch, results, strict=True)):
            if number % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
            samples.append(to_sample(target, stats))
        return samples

    def _fit_pacing(self, batch: list[Target], requests: list[PingRequest], interval_ms: float) -> float:
        """The spacing to use so that sending takes at most PACING_SHARE of the round's interval."""
        echoes = sum(request.count for request in requests)
        if not echoes or interval_ms <= 0:
            return interval_ms
        budget_ms = min(target.probe.interval for target in batch) * 1000.0 * PACING_SHARE
        if echoes * interval_ms <= budget_ms:
            return interval_ms
        fitted = budget_ms / echoes
        key = (interval_ms, round(fitted, 4))
        if key not in self._squeezed:
            self._squeezed.add(key)
            log.info(
                "icmp: %d echoes at %g ms spacing would take %.0f s; spacing %.3f ms this round",
                echoes, interval_ms, echoes * interval_ms / 1000, fitted,
            )
        return fitted

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--count", "-c", type=int, default=3, help="echoes to send (default 3)")
        parser.add_argument("--timeout", "-t", type=float, default=2.0, help="seconds to wait for each reply (default 2)")
        parser.add_argument(
            "--interval-ms", type=float, default=None, help="ms between two echoes sent (default 1; 0 = unpaced)"
        )
        parser.add_argument(
            "--period-ms", type=float, default=None, help="ms between two echoes to the target (default 1000)"
        )
        parser.add_argument("--size", "-s", type=int, default=None, help="payload bytes (default 56)")

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        options: dict[str, Any] = {"count": args.count, "timeout": args.timeout}
        for key in ("interval_ms", "period_ms", "size"):
            value = getattr(args, key, None)
            if value is not None:
                options[key] = value
        return options


def to_sample(target: Target, stats: PingStats) -> Sample:
    """A target's Sample from its ping figures: up when any echo came back."""
    started = stats.started or time.time()
    if stats.sent == 0:
        return target.failure(stats.error or "no echo sent", ts=started)
    metrics: dict[str, float] = {
        "loss_percent": float(stats.loss_percent or 0.0),
        "sent": float(stats.sent),
        "received": float(stats.received),
    }
    if stats.rtts:
        metrics["rtt_seconds"] = float(stats.rtt_avg or 0.0)
        metrics["rtt_min_seconds"] = float(stats.rtt_min or 0.0)
        metrics["rtt_max_seconds"] = float(stats.rtt_max or 0.0)
    jitter = stats.jitter
    if jitter is not None:
        metrics["jitter_seconds"] = jitter
    info = {"ip": stats.ip} if stats.ip and stats.ip != stats.address else {}
    if stats.ok:
        return target.sample(True, ts=started, metrics=metrics, info=info)
    error = f"100% loss ({stats.sent} sent)" + (f": {stats.error}" if stats.error else "")
    return target.sample(False, ts=started, metrics=metrics, info=info, error=error)
