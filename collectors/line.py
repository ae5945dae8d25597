"""Leased lines (专线): smokeping-style ICMP bursts to the far end plus the edge interface by SNMP.

Per round every line gets a burst of echoes (``burst``, default 10, ``period_ms`` apart) to
its far end → loss %, min/avg/max RTT, jitter. When the edge device that carries the line is
given (``edge``: its SNMP endpoint and interface), its interface's oper status and in/out bit
rates are read and set against the **contracted bandwidth** (``bandwidth``: ``100M``, or up/down
``300M/1000M``; from the probe options or the device's ``attrs.bandwidth``) → utilisation %.

A line is up while echoes come back (and its edge interface, when known, is up). It is
``degraded`` when a threshold (loss, RTT, jitter, utilisation) is exceeded for
``degrade_after`` consecutive rounds; ``degraded_reasons`` says which and by how much.

Metrics: ``loss_percent``, ``rtt_min_seconds``, ``rtt_avg_seconds`` (= ``rtt_seconds``),
``rtt_max_seconds``, ``jitter_seconds``, ``oper_up``, ``up_bps``, ``down_bps``,
``up_util_percent``, ``down_util_percent``, ``util_percent`` (the busier direction),
``bandwidth_up_bps``, ``bandwidth_down_bps``, ``degraded`` and ``degraded_loss``/``_rtt``/
``_jitter``/``_util``.

Sample config::

    probes:
      line:
        bandwidth: 300M/1000M
        burst: 10
        max_loss_percent: 2
        max_rtt_ms: 50
        max_util_percent: 90
        degrade_after: 3
        edge: {address: 10.1.0.1, community: public, interface: GigabitEthernet0/0/1}
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from collectors._snmp.client import SnmpClient
from collectors._snmp.interfaces import unique_labels
from collectors._snmp.options import SnmpEndpoint, add_endpoint_arguments, endpoint_options
from collectors._snmp.poll import DeviceMemory, DevicePoller, PollOptions
from collectors.base import (
    JITTER,
    LOSS,
    RTT,
    RTT_MAX,
    RTT_MIN,
    Collector,
    CollectorContext,
    Target,
    describe_exception,
)
from collectors.registry import register
from core.metrics import MetricSpec, directional
from core.model import Sample

_UNITS = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "兆": 1e6}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT兆]?)(?:B|BPS|BIT/S|BITS?)?\s*$", re.IGNORECASE)


def parse_rate(text: str) -> float:
    """``100M`` → 100e6 bit/s (``2M``, ``1G``, ``512K``, ``100Mbps``, ``100兆``; a bare number is bit/s)."""
    match = _RATE.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a bandwidth like 100M, 2M, 1G or 300M/1000M")
    value = float(match.group(1)) * _UNITS[match.group(2).upper() if match.group(2) != "兆" else "兆"]
    if value <= 0:
        raise ValueError(f"bandwidth {text!r} must be positive")
    return value


def parse_bandwidth(text: str | float | int) -> tuple[float, float]:
    """(up, down) in bit/s from ``100M`` (both ways) or ``300M/1000M`` (up/down)."""
    if isinstance(text, int | float):
        if text <= 0:
            raise ValueError(f"bandwidth {text!r} must be positive")
        return float(text), float(text)
    up, slash, down = str(text).partition("/")
    if slash:
        return parse_rate(up), parse_rate(down)
    rate = parse_rate(up)
    return rate, rate


class EdgeOptions(SnmpEndpoint):
    """The device and interface that carry the line (read by SNMP)."""

    model_config = ConfigDict(extra="forbid")

    address: str = Field(description="the edge device's address")  # type: ignore[assignment]
    interface: str | int = Field(description="ifName, ifDescr, ifAlias or ifIndex of the line's interface")
    upstream: Literal["out", "in"] = Field(
        "out", description="which counter of the interface is the line's upload (out: traffic sent into the line)"
    )


class LineOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bandwidth: str | None = Field(None, description="contracted bandwidth: 100M, or up/down 300M/1000M (default: attrs)")
    far_end: str | None = Field(None, description="address to ping (default: attrs.far_end, else the device's address)")
    burst: int = Field(10, ge=0, le=100, description="echoes per round (0: no ICMP, judge by the edge interface)")
    period_ms: float = Field(200.0, ge=0, le=10000, description="spacing of the echoes of one burst")
    timeout: float = Field(2.0, gt=0, le=30, description="seconds to wait for each echo")
    size: int = Field(56, ge=0, le=65000)
    max_loss_percent: float | None = Field(5.0, ge=0, le=100)
    max_rtt_ms: float | None = Field(None, gt=0)
    max_jitter_ms: float | None = Field(None, gt=0)
    max_util_percent: float | None = Field(90.0, gt=0)
    degrade_after: int = Field(3, ge=1, le=100, description="consecutive rounds over a threshold before degraded")
    edge: EdgeOptions | None = None

    @field_validator("bandwidth", mode="before")
    @classmethod
    def _bandwidth(cls, value: Any) -> Any:
        if value is None:
            return None
        parse_bandwidth(value)
        return str(value)


@dataclass
class LineMemory:
    streaks: dict[str, int] = field(default_factory=dict)
    edge: DeviceMemory = field(default_factory=DeviceMemory)


@dataclass
class Check:
    name: str
    value: float | None
    limit: float | None
    text: str


def bandwidth_of(target: Target) -> tuple[tuple[float, float] | None, str | None]:
    """The contracted (up, down) bit/s from the options or attrs, and a problem if attrs are bad."""
    options: LineOptions = target.options
    if options.bandwidth is not None:
        return parse_bandwidth(options.bandwidth), None
    raw = target.device.attrs.get("bandwidth")
    if raw is None:
        return None, None
    try:
        return parse_bandwidth(raw), None
    except ValueError as exc:
        return None, f"attrs.bandwidth: {exc}"


def far_end_of(target: Target) -> str:
    options: LineOptions = target.options
    return options.far_end or str(target.device.attrs.get("far_end") or "") or target.device.address or ""


@register
class LineCollector(Collector):
    """Leased line: loss/RTT/jitter bursts, edge interface rate and utilisation of the contract"""

    name = "line"
    metrics = (
        MetricSpec("oper_up", help="1 when the edge interface is operating"),
        *directional("{}_bps", "bits_per_second", "Leased line traffic measured on its edge interface (up = towards the carrier)", "line", ("up", "down")),
        MetricSpec("edge_rebooted", help="1 when the edge device restarted since the last round"),
        LOSS,
        MetricSpec("echoes_sent", help="Echoes sent to the far end"),
        RTT_MIN,
        MetricSpec("rtt_avg_seconds", "seconds", help="Mean RTT of the burst to the far end"),
        RTT,
        RTT_MAX,
        JITTER,
        *directional("bandwidth_{}_bps", "bits_per_second", "Contracted bandwidth of the leased line", "line_bandwidth", ("up", "down")),
        *directional("{}_util_percent", "percent", "Leased line traffic / contracted bandwidth", "line_utilization", ("up", "down")),
        MetricSpec("util_percent", "percent", help="The busier direction's utilisation"),
        *(
            MetricSpec(f"degraded_{check}", help=f"1 when the {check} threshold held for degrade_after rounds")
            for check in ("loss", "rtt", "jitter", "util")
        ),
        MetricSpec("degraded", help="1 when any degradation threshold held for degrade_after rounds"),
    )
    Options = LineOptions
    sample_config = "line:\n  bandwidth: 100M\n  burst: 10\n  max_loss_percent: 2\n  max_util_percent: 90\n"

    @classmethod
    def check_target(cls, target: Target, inventory: Any) -> list[tuple[str, str]]:
        _, problem = bandwidth_of(target)
        return [("attrs.bandwidth", problem.removeprefix("attrs.bandwidth: "))] if problem else []

    def __init__(self, context: CollectorContext | None = None) -> None:
        super().__init__(context)
        self.client = SnmpClient()
        self.poller = DevicePoller()
        self.memory: dict[tuple[str, str], LineMemory] = {}

    @property
    def clock(self) -> Any:
        return self.poller.clock

    @clock.setter
    def clock(self, value: Any) -> None:
        self.poller.clock = value

    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        started = self.poller.clock()
        bursts, edges = await asyncio.gather(
            self._bursts(targets), asyncio.gather(*(self._edge(t) for t in targets))
        )
        samples = []
        for target, burst, edge in zip(targets, bursts, edges, strict=True):
            try:
                samples.append(self._judge(target, burst, edge, started))
            except Exception as exc:  # never let one line end the round
                samples.append(target.failure(describe_exception(exc), ts=started))
        return samples

    async def _bursts(self, targets: Sequence[Target]) -> list[Any]:
        """One ICMP round for every line that pings (the ICMP engine's single socket)."""
        from collectors.icmp import PingRequest, ping_plan

        requests, where = [], []
        for index, target in enumerate(targets):
            options: LineOptions = target.options
            address = far_end_of(target)
            if options.burst and address:
                requests.append(PingRequest(address, count=options.burst, timeout=options.timeout, size=options.size))
                where.append(index)
        results: list[Any] = [None] * len(targets)
        if not requests:
            return results
        period = min(t.options.period_ms for t in targets if t.options.burst) if requests else 0.0
        for index, stats in zip(where, await ping_plan(requests, interval_ms=0.5, period_ms=period), strict=True):
            results[index] = stats
        return results

    async def _edge(self, target: Target) -> tuple[dict[str, float], str | None] | None:
        """The edge interface's oper status and bit rates, or None when no edge is configured."""
        options: LineOptions = target.options
        edge = options.edge
        if edge is None:
            return None
        memory = self.memory.setdefault((target.device.id, target.probe.name), LineMemory()).edge
        poll = PollOptions(interfaces=[edge.interface])
        try:
            session = self.client.session(edge.address, edge, target.device.id)
            result, _ = await self.poller.poll(session, poll, memory, edge.max_repetitions)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return {}, f"edge {edge.address}: {describe_exception(exc)}"
        if not result.ok:
            return {}, f"edge {edge.address}: {result.error}"
        if not memory.selected:
            return {}, f"edge {edge.address}: {result.message or 'interface not found'}"
        label = unique_labels(memory.selected)[memory.selected[0].index]
        prefix = f"if.{label}."
        values = {k[len(prefix) :]: v for k, v in result.metrics.items() if k.startswith(prefix)}
        up_key, down_key = ("out_bps", "in_bps") if edge.upstream == "out" else ("in_bps", "out_bps")
        metrics: dict[str, float] = {}
        if "oper_up" in values:
            metrics["oper_up"] = values["oper_up"]
        if up_key in values:
            metrics["up_bps"] = values[up_key]
        if down_key in values:
            metrics["down_bps"] = values[down_key]
        if "rebooted" in result.metrics:
            metrics["edge_rebooted"] = result.metrics["rebooted"]
        problems = list(result.problems)
        return metrics, (f"edge {edge.address}: " + "; ".join(problems)) if problems else None

    def _judge(
        self, target: Target, burst: Any, edge: tuple[dict[str, float], str | None] | None, started: float
    ) -> Sample:
        options: LineOptions = target.options
        memory = self.memory.setdefault((target.device.id, target.probe.name), LineMemory())
        metrics: dict[str, float] = {}
        info: dict[str, str] = {}
        problems: list[str] = []
        far_end = far_end_of(target)
        if far_end:
            info["far_end"] = far_end
        bandwidth, bandwidth_problem = bandwidth_of(target)
        if bandwidth_problem:
            problems.append(bandwidth_problem)

        icmp_ok: bool | None = None
        icmp_error = None
        if options.burst and not far_end:
            icmp_error = "no far-end address: set the device's address, attrs.far_end or far_end"
        elif burst is not None:
            if burst.sent == 0:
                icmp_error = burst.error or "no echo sent"
            else:
                icmp_ok = burst.received > 0
                metrics["loss_percent"] = burst.loss_percent
                metrics["echoes_sent"] = float(burst.sent)
                if burst.rtts:
                    metrics["rtt_min_seconds"] = burst.rtt_min
                    metrics["rtt_avg_seconds"] = metrics["rtt_seconds"] = burst.rtt_avg
                    metrics["rtt_max_seconds"] = burst.rtt_max
                if burst.jitter is not None:
                    metrics["jitter_seconds"] = burst.jitter
                if not icmp_ok:
                    icmp_error = f"far end {far_end} does not answer: {burst.summary()}"

        edge_up: bool | None = None
        if edge is not None:
            edge_metrics, edge_problem = edge
            metrics.update(edge_metrics)
            if edge_problem:
                problems.append(edge_problem)
            if "oper_up" in edge_metrics:
                edge_up = edge_metrics["oper_up"] == 1
                info["edge_interface"] = f"{options.edge.address} {options.edge.interface}" if options.edge else ""
        if bandwidth is not None:
            metrics["bandwidth_up_bps"], metrics["bandwidth_down_bps"] = bandwidth
            info["bandwidth"] = str(options.bandwidth or target.device.attrs.get("bandwidth"))
            utils = []
            for direction, contracted in zip(("up", "down"), bandwidth, strict=True):
                rate = metrics.get(f"{direction}_bps")
                if rate is not None:
                    metrics[f"{direction}_util_percent"] = 100.0 * rate / contracted
                    utils.append(metrics[f"{direction}_util_percent"])
            if utils:
                metrics["util_percent"] = max(utils)

        # up or down
        error = None
        if icmp_ok is None and edge_up is None:
            ok = False
            error = icmp_error or (problems[0] if problems else "nothing to judge the line by: no far end and no edge")
        else:
            ok = icmp_ok is not False and edge_up is not False
            if edge_up is False:
                error = f"edge interface {options.edge.interface if options.edge else ''} is down"
            elif icmp_ok is False:
                error = icmp_error
            elif icmp_error:  # ICMP not usable, judged by the edge interface alone
                problems.append(icmp_error)

        # degraded: thresholds held for degrade_after consecutive rounds
        checks = [
            Check("loss", metrics.get("loss_percent"), options.max_loss_percent, "loss {v:.0f}% > {l:g}%"),
            Check(
                "rtt",
                _ms(metrics.get("rtt_avg_seconds")),
                options.max_rtt_ms,
                "RTT {v:.1f} ms > {l:g} ms",
            ),
            Check("jitter", _ms(metrics.get("jitter_seconds")), options.max_jitter_ms, "jitter {v:.1f} ms > {l:g} ms"),
            Check("util", metrics.get("util_percent"), options.max_util_percent, "utilisation {v:.0f}% > {l:g}%"),
        ]
        reasons = []
        for check in checks:
            over = ok and check.value is not None and check.limit is not None and check.value > check.limit
            streak = memory.streaks.get(check.name, 0) + 1 if over else 0
            memory.streaks[check.name] = streak
            degraded = streak >= options.degrade_after
            metrics[f"degraded_{check.name}"] = 1.0 if degraded else 0.0
            if degraded:
                reasons.append(check.text.format(v=check.value, l=check.limit) + f" for {streak} rounds")
        metrics["degraded"] = 1.0 if reasons else 0.0
        if reasons:
            info["degraded_reasons"] = "; ".join(reasons)
        if problems:
            info["problems"] = "; ".join(problems)
        if error is None and problems:
            error = info["problems"]
        return target.sample(ok, ts=started, metrics=metrics, error=error, info=info)

    async def close(self) -> None:
        await self.client.close()

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--bandwidth", help="contracted bandwidth: 100M, or up/down 300M/1000M")
        parser.add_argument("--burst", type=int, default=10, help="echoes per burst (default 10; 0: none)")
        parser.add_argument("--edge", help="address of the edge device carrying the line (read by SNMP)")
        parser.add_argument("--interface", help="the line's interface on the edge device")
        add_endpoint_arguments(parser)

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        options: dict[str, Any] = {"burst": args.burst}
        if args.bandwidth:
            options["bandwidth"] = args.bandwidth
        if args.edge or args.interface:
            edge = endpoint_options(args)
            edge["address"] = args.edge or args.target
            if args.interface:
                edge["interface"] = args.interface
            options["edge"] = edge
        return options


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0
