"""UPS: SNMP UPS-MIB (RFC 1628) or NUT upsd, one model, the states alerting turns into faults.

Source ``snmp`` reads the UPS-MIB scalars (output source, battery status, minutes remaining,
charge, seconds on battery, voltages, load, alarms, temperature) and the alarm table; source
``nut`` asks upsd (TCP 3493) ``LIST VAR <ups>`` (ups.status flags OL/OB/LB/RB/OVER/BYPASS,
battery.charge, battery.runtime, input.voltage, ups.load ...).

Metrics (1/0 flags): ``on_battery``, ``low_battery``, ``battery_depleted``,
``replace_battery``, ``overload``, ``on_bypass``, ``comms_lost``, ``runtime_below_required``;
figures: ``on_battery_since`` (epoch), ``on_battery_seconds``, ``low_battery_since``,
``mains_restored_after_seconds`` (the round mains came back), ``charge_percent``,
``runtime_seconds``, ``required_runtime_seconds``, ``load_percent``, ``input_voltage``,
``output_voltage``, ``battery_temperature_c``, ``alarms_present``, ``state_since``. Info:
``state`` (online, on_battery, low_battery, battery_depleted, overload, replace_battery,
runtime_below_required, on_bypass, comms_lost), ``state_since``, ``on_battery_since``,
``ups_status``, ``alarms``, ``model``. A restarted agent takes up "on battery since" and "state since"
from the store (``agent.builtin.UpsMemory``).

The required runtime (the hotline UPS must carry its load 3 h) is the probe option
``required_runtime_hours`` or the device's ``attrs.required_runtime_hours``.

Sample config::

    probes:
      ups:
        source: nut
        nut_ups: hotline
        required_runtime_hours: 3
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from collectors._nut import NUT_PORT, NutError, list_vars
from collectors._snmp import oids
from collectors._snmp.client import SnmpClient
from collectors._snmp.options import SnmpEndpoint, add_endpoint_arguments, endpoint_options
from collectors._snmp.session import SnmpError, walk_columns
from collectors._snmp.varbinds import get_many
from collectors._ups import SNMP_OIDS, UpsReading, UpsTracker, from_nut, from_snmp
from collectors.base import RTT, Collector, CollectorContext, Target, describe_exception
from collectors.registry import register
from core.metrics import MetricSpec
from core.model import Sample
from core.timefmt import to_iso


class UpsOptions(SnmpEndpoint):
    model_config = ConfigDict(extra="forbid")

    source: Literal["snmp", "nut"] | None = Field(None, description="default: nut when nut_ups is set, else snmp")
    nut_ups: str | None = Field(None, description="the UPS's name in upsd (ups.conf section)")
    nut_port: int = Field(NUT_PORT, ge=1, le=65535)
    required_runtime_hours: float | None = Field(None, gt=0, description="default: the device's attrs")

    @model_validator(mode="after")
    def _source(self) -> UpsOptions:
        if self.source is None:
            self.source = "nut" if self.nut_ups else "snmp"
        if self.source == "nut" and not self.nut_ups:
            raise ValueError("source nut needs nut_ups (the UPS's name in upsd)")
        return self


def required_runtime(target: Target) -> tuple[float | None, str | None]:
    """Seconds of runtime the contract requires (option, else attrs), and a problem if attrs are bad."""
    options: UpsOptions = target.options
    if options.required_runtime_hours is not None:
        return options.required_runtime_hours * 3600, None
    raw = target.device.attrs.get("required_runtime_hours")
    if raw is None:
        return None, None
    try:
        hours = float(raw)
    except (TypeError, ValueError):
        return None, f"attrs.required_runtime_hours must be a number of hours, not {raw!r}"
    if hours <= 0:
        return None, f"attrs.required_runtime_hours must be positive, not {raw!r}"
    return hours * 3600, None


@register
class UpsCollector(Collector):
    """UPS: on battery, low battery, runtime below the required hours (UPS-MIB or NUT)"""

    name = "ups"
    metrics = (
        *(
            MetricSpec(flag, help=f"1 when the UPS reports {flag.replace('_', ' ')}")
            for flag in ("on_battery", "low_battery", "replace_battery", "overload", "on_bypass", "comms_lost")
        ),
        MetricSpec("battery_depleted", help="1 when the battery is exhausted (runtime 0 or shutdown imminent)"),
        MetricSpec("on_battery_since", "unix_time", help="When the UPS went on battery"),
        MetricSpec("on_battery_seconds", "seconds", help="Time on battery so far"),
        MetricSpec("low_battery_since", "unix_time", help="When the battery became low"),
        MetricSpec("mains_restored_after_seconds", "seconds", help="Time on battery before mains came back"),
        MetricSpec("charge_percent", "percent", help="Battery charge"),
        MetricSpec("runtime_seconds", "seconds", help="UPS estimated runtime on battery", family="ups_runtime"),
        MetricSpec("input_voltage", "volts", help="Input (mains) voltage"),
        MetricSpec("output_voltage", "volts", help="Output voltage"),
        MetricSpec("load_percent", "percent", help="Load on the UPS"),
        MetricSpec("battery_temperature_c", "celsius", help="Battery temperature"),
        MetricSpec("alarms_present", help="Alarms the UPS reports"),
        MetricSpec(
            "required_runtime_seconds",
            "seconds",
            help="The runtime the contract requires of the UPS (device attrs)",
            family="ups_required_runtime",
        ),
        MetricSpec("runtime_below_required", help="1 when the runtime is below the required runtime"),
        MetricSpec("state_since", "unix_time", help="When the UPS entered its present state"),
        RTT,
    )
    Options = UpsOptions
    sample_config = "ups:\n  source: nut\n  nut_ups: hotline\n  required_runtime_hours: 3\n"

    @classmethod
    def check_target(cls, target: Target, inventory: Any) -> list[tuple[str, str]]:
        _, problem = required_runtime(target)
        return [("attrs.required_runtime_hours", problem.removeprefix("attrs.required_runtime_hours "))] if problem else []

    def __init__(self, context: CollectorContext | None = None) -> None:
        super().__init__(context)
        self.client = SnmpClient()
        self.clock = time.time
        self.trackers: dict[tuple[str, str], UpsTracker] = {}

    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        return list(await asyncio.gather(*(self._one(t) for t in targets)))

    async def _one(self, target: Target) -> Sample:
        options: UpsOptions = target.options
        started = self.clock()
        tracker = self.trackers.setdefault((target.device.id, target.probe.name), UpsTracker())
        if not target.address:
            return target.failure("no address: set the device's address or the probe's address", ts=started)
        clock = time.perf_counter()
        try:
            if options.source == "nut":
                reading = await self._nut(target, options)
            else:
                reading = await self._snmp(target, options)
        except asyncio.CancelledError:
            raise
        except NutError as exc:
            return self._lost(target, tracker, str(exc), started)
        except SnmpError as exc:
            return self._lost(target, tracker, str(exc), started)
        except TimeoutError:
            return self._lost(target, tracker, f"timeout after {options.timeout:g} s (upsd port {options.nut_port})", started)
        except OSError as exc:
            where = f" (upsd port {options.nut_port})" if options.source == "nut" else ""
            return self._lost(target, tracker, describe_exception(exc) + where, started)
        except Exception as exc:  # never let one UPS end the round
            return target.failure(describe_exception(exc), ts=started)
        rtt = time.perf_counter() - clock
        now = self.clock()
        required, attrs_problem = required_runtime(target)
        problems = list(reading.problems) + ([attrs_problem] if attrs_problem else [])
        metrics, info = tracker.derive(reading, now, required)
        metrics["rtt_seconds"] = rtt
        self._times(info, tracker)
        if problems:
            info["problems"] = "; ".join(problems)
        ok = not reading.comms_lost
        error = None
        if reading.comms_lost:
            error = f"comms lost: the UPS reports {reading.status or 'no status'}"
        elif problems:
            error = info["problems"]
        return target.sample(ok, ts=started, metrics=metrics, error=error, info=info)

    def _lost(self, target: Target, tracker: UpsTracker, error: str, started: float) -> Sample:
        now = self.clock()
        if tracker.state != "comms_lost":
            tracker.state, tracker.state_since = "comms_lost", now
        metrics = {"comms_lost": 1.0, "state_since": tracker.state_since or now}
        if tracker.on_battery_since is not None:  # last known: still counting
            metrics["on_battery_since"] = tracker.on_battery_since
        if tracker.low_battery_since is not None:
            metrics["low_battery_since"] = tracker.low_battery_since
        info = {"state": "comms_lost"}
        self._times(info, tracker)
        return target.failure(error, ts=started, metrics=metrics, info=info)

    def _times(self, info: dict[str, str], tracker: UpsTracker) -> None:

        tz = self.context.timezone
        if tracker.state_since is not None:
            info["state_since"] = to_iso(tracker.state_since, tz)
        if tracker.on_battery_since is not None:
            info["on_battery_since"] = to_iso(tracker.on_battery_since, tz)
        if tracker.low_battery_since is not None:
            info["low_battery_since"] = to_iso(tracker.low_battery_since, tz)

    async def _nut(self, target: Target, options: UpsOptions) -> UpsReading:
        assert options.nut_ups is not None
        variables = await list_vars(target.address, options.nut_ups, options.nut_port, options.timeout * (options.retries + 1))
        return from_nut(variables)

    async def _snmp(self, target: Target, options: UpsOptions) -> UpsReading:
        session = self.client.session(target.address, options, target.device.id)
        values = await get_many(session, SNMP_OIDS)
        alarm_rows: list[Any] = []
        count = values[SNMP_OIDS.index(oids.UPS_ALARMS_PRESENT)]
        if not count.is_exception and isinstance(count.value, int) and count.value > 0:
            rows, _ = await walk_columns(session, [oids.UPS_ALARM_DESCR], options.max_repetitions, max_rows=100)
            alarm_rows = rows[oids.UPS_ALARM_DESCR]
        return from_snmp(values, alarm_rows)

    def restore(self, samples: Iterable[Sample]) -> int:
        """Seed the memory of UPS units not seen yet from their last recorded samples; how many."""
        restored = 0
        for sample in samples:
            key = (sample.device, sample.probe)
            if key in self.trackers:  # live memory wins
                continue
            tracker = UpsTracker()
            tracker.restore(sample.metrics, sample.info)
            self.trackers[key] = tracker
            restored += 1
        return restored

    async def close(self) -> None:
        await self.client.close()

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_endpoint_arguments(parser)
        parser.add_argument("--nut-ups", help="ask NUT upsd for this UPS instead of SNMP")
        parser.add_argument("--nut-port", type=int, default=NUT_PORT, help=f"upsd port (default {NUT_PORT})")
        parser.add_argument("--required-hours", type=float, help="runtime the UPS must carry (e.g. 3)")

    @classmethod
    def port_option(cls, options: dict[str, Any]) -> str | None:
        return "nut_port" if options.get("source") == "nut" or options.get("nut_ups") else "port"

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        options = endpoint_options(args)
        if args.nut_ups:
            options.update(source="nut", nut_ups=args.nut_ups, nut_port=args.nut_port)
        if args.required_hours is not None:  # 0 must reach validation, not vanish
            options["required_runtime_hours"] = args.required_hours
        return options
