"""The collector interface: one round, a batch of targets in, one Sample per target out.

A collector owns its concurrency (one raw socket for thousands of pings, one UDP endpoint for
SNMP) and never lets a device-side failure escape as an exception: a timeout, a refusal or a
garbled reply becomes a Sample with ``ok=False`` and an ``error`` an engineer can act on.

A simple collector subclasses ``PerTargetCollector`` and writes ``probe(target)``; the shared
fan-out sizes concurrency so the round fits its interval (collectors.concurrency), applies
the timeout and turns exceptions into error samples.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from collectors.concurrency import RoundPlan, memory_budget, open_files_available, plan_round
from core.metrics import MetricSpec, MetricTable
from core.model import Sample
from inventory.models import Target

log = logging.getLogger("yunwei.collectors")

# Metrics several collectors emit, declared once so that their exported family agrees.
RTT = MetricSpec(
    "rtt_seconds", "seconds", help="Round-trip time of the probe (ICMP echo, TCP connect, HTTP request ...)", family="rtt"
)
REFUSED = MetricSpec("refused", help="1 when the port refused the connection")
STATUS = MetricSpec("status", help="The protocol's status code of the answer (HTTP, RTSP, SIP)")
AUTH_FAILED = MetricSpec("auth_failed", help="1 when the device refused the configured credentials")
CONNECT = MetricSpec("connect_seconds", "seconds", help="Time to open the TCP connection")
LOSS = MetricSpec("loss_percent", "percent", help="Echoes lost in the probe's burst", family="loss")
RTT_MIN = MetricSpec("rtt_min_seconds", "seconds", help="Fastest echo of the burst")
RTT_MAX = MetricSpec("rtt_max_seconds", "seconds", help="Slowest echo of the burst")
JITTER = MetricSpec("jitter_seconds", "seconds", help="Mean difference between consecutive echoes' RTT")
UPTIME = MetricSpec("uptime_seconds", "seconds", help="Time since the device last started")
INTERFACES_DOWN = MetricSpec("interfaces_down", help="Interfaces administratively up but not operating")


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class CollectorContext:
    """What a collector may need from the agent: where to keep files, the agent's id."""

    agent_id: str = "yunwei"
    data_dir: Path = field(default_factory=lambda: Path("."))
    timezone: str = "Asia/Shanghai"
    extra: dict[str, Any] = field(default_factory=dict)


class Collector(ABC):
    """Base of every collector. Subclasses set ``name`` and ``Options`` and implement ``collect``."""

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = NoOptions
    default_interval: ClassVar[float | None] = None
    # False for collectors that run on their own schedule (SSH inspections), not in probe rounds.
    in_rounds: ClassVar[bool] = True
    # Shown by ``yunwei probe --help`` and checked by the conformance test: a YAML snippet of
    # a device's ``probes:`` entry that validates against Options.
    sample_config: ClassVar[str] = ""
    # Every metric the collector may put in Sample.metrics (core.metrics); threshold rules are
    # checked against it and the exporters map families from it.
    metrics: ClassVar[tuple[MetricSpec, ...]] = ()

    # What one probe may hold in memory at most (its reply bounds); sizes the round's concurrency.
    memory_per_probe: ClassVar[int] = 64 * 1024

    def __init__(self, context: CollectorContext | None = None) -> None:
        self.context = context or CollectorContext()
        # interval → the last round's concurrency plan (read by /healthz)
        self.plans: dict[float, RoundPlan] = {}

    @abstractmethod
    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        """Probe every target once; return exactly one Sample per target, in any order."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release sockets and sessions when the agent stops or reloads."""

    @classmethod  # noqa: B027 - optional hook
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add flags for ``yunwei probe NAME`` beyond the generic ``-o key=value``."""

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        """Options taken from the flags added by ``add_cli_arguments``."""
        return {}

    @classmethod
    def port_option(cls, options: dict[str, Any]) -> str | None:
        """The option a ``host:port`` target's port sets (``yunwei probe tcp 10.0.0.1:22``)."""
        return "port" if "port" in cls.Options.model_fields else None

    @classmethod
    def option_metrics(cls, options: BaseModel) -> tuple[MetricSpec, ...]:
        """Metrics named by a probe's own options (the SNMP collector's user OIDs)."""
        return ()

    @classmethod
    def metric_table(cls, options: BaseModel | None = None) -> MetricTable:
        """The declared metrics, plus those the given options add."""
        extra = cls.option_metrics(options) if options is not None else ()
        return MetricTable((*cls.metrics, *extra))

    @classmethod
    def check_target(cls, target: Target, inventory: Any) -> list[tuple[str, str]]:
        """Problems of a device's probe that its options alone cannot show (``attrs`` values,
        links to the inventory), as ``(field under the device, message)``. Called once when the
        config is loaded, so ``yunwei check`` refuses them instead of every round reporting them."""
        return []


class PerTargetCollector(Collector):
    """A collector written as one coroutine per target, fanned out with bounded concurrency."""

    # At least this many probes at once when the limits allow (healthy probes end fast, and
    # more at once ends the round sooner); more when the round needs it to fit its interval.
    concurrency: ClassVar[int] = 512

    @abstractmethod
    async def probe(self, target: Target) -> Sample:
        """Probe one target. May raise; the fan-out turns exceptions into error samples."""

    def timeout_for(self, target: Target) -> float:
        return float(getattr(target.options, "timeout", 10.0)) + 1.0

    def plan(self, targets: Sequence[Target]) -> RoundPlan:
        """How many of ``targets`` to probe at once (see collectors.concurrency), logged when
        the round cannot fit its interval and again when it fits once more."""
        interval = min((t.probe.interval for t in targets), default=0.0)
        files_available, files_limit = open_files_available()
        plan = plan_round(
            self.name,
            interval,
            [float(getattr(t.options, "timeout", 10.0)) for t in targets],
            self.concurrency,
            self.memory_per_probe,
            files_available,
            files_limit,
            memory_budget(),
        )
        previous = self.plans.get(interval)
        if not plan.fits and (previous is None or previous.limit != plan.limit):  # once, not every round
            log.warning("round %s/%gs cannot fit its interval: %s", self.name, interval, plan.why)
        elif plan.fits and previous is not None and not previous.fits:
            log.info("round %s/%gs fits its interval again (%d probes at once)", self.name, interval, plan.concurrency)
        self.plans[interval] = plan
        return plan

    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        semaphore = asyncio.Semaphore(max(1, self.plan(targets).concurrency))

        async def guarded(target: Target) -> Sample:
            async with semaphore:
                started = time.time()
                try:
                    # never longer than the round's interval, whatever the timeout says
                    limit = min(self.timeout_for(target), target.probe.interval + 1.0)
                    return await asyncio.wait_for(self.probe(target), limit)
                except TimeoutError:
                    return target.failure("timeout", ts=started)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a device-side failure must never end the round
                    return target.failure(describe_exception(exc), ts=started)

        return list(await asyncio.gather(*(guarded(t) for t in targets)))


def split_host_port(target: str) -> tuple[str, int | None]:
    """``10.0.0.1:22`` → (10.0.0.1, 22), ``[::1]:22`` → (::1, 22); a bare IPv6 address, a name
    or a URL has no port here. A port that is not 1-65535 is a ValueError."""
    text = target.strip()
    if "://" in text:
        return text, None
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{target!r}: write an IPv6 address with a port as [::1]:22")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        return text, None  # a name, an IPv4 address or a bare IPv6 address
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{target!r}: the port must be a number from 1 to 65535")
    return host, int(port_text)


def describe_exception(exc: BaseException) -> str:
    """A one-line explanation of an exception for a Sample's error."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
