"""SNMP poll of switches, routers and firewalls: system group, IF-MIB interfaces, vendor OIDs.

SNMP v1, v2c and v3 (noAuthNoPriv, authNoPriv, authPriv; SHA/SHA-2 and AES-128/192/256;
MD5/DES accepted for old gear, with a warning). Every device shares one UDP socket multiplexed
by request-id (v3 through yunwei's own USM codec; pysnmp on request). Per round a device
answers one GET in the steady state.

Metrics: ``rtt_seconds``, ``uptime_seconds``, ``rebooted`` (1 in the round that found the
uptime gone back; the 497-day TimeTicks wrap is not a reboot), ``interfaces_down`` and per
chosen interface ``if.<ifName>.in_bps|out_bps|in_util_percent|out_util_percent|oper_up|
admin_up|speed_bps|in_errors|out_errors|in_discards|out_discards``, plus each user OID by
its name. Info: ``sys_name``, ``sys_descr``, ``sys_object_id``, ``reboot``, ``problems``.

Sample config::

    probes:
      snmp:
        version: 2c
        community: ${secret:snmp_ro}
        interfaces: [GigabitEthernet0/0/1, 上联*, 3]   # ifName, ifDescr, ifAlias (globs) or ifIndex
        oids:
          - {name: cpu_percent, oid: 1.3.6.1.4.1.2011.6.3.4.1.2, walk: max}
          - {name: temperature_c, oid: 1.3.6.1.4.1.25506.2.6.1.1.1.1.12.1, type: gauge}
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from collectors._snmp.client import SnmpClient
from collectors._snmp.options import SnmpEndpoint, add_endpoint_arguments, endpoint_options
from collectors._snmp.poll import DeviceMemory, DevicePoller, PollOptions
from collectors.base import (
    INTERFACES_DOWN,
    RTT,
    UPTIME,
    Collector,
    CollectorContext,
    Target,
    describe_exception,
)
from collectors.registry import register
from core.metrics import MetricSpec, directional
from core.model import Sample

FORGET_AFTER = 86400.0


class SnmpOptions(SnmpEndpoint, PollOptions):
    model_config = ConfigDict(extra="forbid")


@register
class SnmpCollector(Collector):
    """SNMP: uptime/reboots, interface status and bit rates, vendor CPU/memory/temperature"""

    name = "snmp"
    metrics = (
        RTT,
        UPTIME,
        MetricSpec("rebooted", help="1 when sysUpTime went back since the last round"),
        INTERFACES_DOWN,
        MetricSpec("admin_up", help="1 when the interface is administratively up", per_interface=True),
        MetricSpec("oper_up", help="1 when the interface is operating", per_interface=True),
        MetricSpec("speed_bps", "bits_per_second", help="Interface speed", per_interface=True),
        *directional("{}_bps", "bits_per_second", "Interface traffic over the last polling interval", "", ("in", "out"), True),
        *directional("{}_util_percent", "percent", "Interface traffic / interface speed", "utilization", ("in", "out"), True),
        *(
            MetricSpec(f"{name}", help=f"{name.replace('_', ' ')} since the last round", per_interface=True)
            for name in ("in_errors", "out_errors", "in_discards", "out_discards")
        ),
    )
    Options = SnmpOptions
    sample_config = (
        "snmp:\n  version: 2c\n  community: public\n  interfaces: [eth0, 2]\n"
        "  oids:\n    - {name: cpu_percent, oid: 1.3.6.1.4.1.2021.11.9.0}\n"
    )

    @classmethod
    def option_metrics(cls, options: BaseModel) -> tuple[MetricSpec, ...]:
        """The probe's user OIDs (``oids:``), each a metric under its own name."""
        return tuple(
            MetricSpec(oid.name, help=f"OID {oid.oid}" + (f" ({oid.walk} of the column)" if oid.walk else ""))
            for oid in getattr(options, "oids", ())
        )

    def __init__(self, context: CollectorContext | None = None) -> None:
        super().__init__(context)
        self.client = SnmpClient()
        self.poller = DevicePoller()
        self.memory: dict[tuple[str, str], tuple[str, DeviceMemory]] = {}

    @property
    def clock(self) -> Any:
        return self.poller.clock

    @clock.setter
    def clock(self, value: Any) -> None:
        self.poller.clock = value

    def memory_for(self, target: Target) -> DeviceMemory:
        """The device's memory; what it knows about interfaces is dropped when their options change."""
        key = (target.device.id, target.probe.name)
        options: SnmpOptions = target.options
        signature = repr((options.address, options.port, options.interfaces))
        stored = self.memory.get(key)
        if stored is None:
            stored = (signature, DeviceMemory())
        elif stored[0] != signature:
            stored = (signature, DeviceMemory(uptime=stored[1].uptime))
        self.memory[key] = stored
        return stored[1]

    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        samples = list(await asyncio.gather(*(self._one(t) for t in targets)))
        cutoff = self.poller.clock() - FORGET_AFTER
        for key in [k for k, (_, m) in self.memory.items() if 0 < m.last_seen < cutoff]:
            del self.memory[key]
        return samples

    async def _one(self, target: Target) -> Sample:
        options: SnmpOptions = target.options
        started = self.poller.clock()
        if not target.address:
            return target.failure("no address: set the device's address or the probe's address", ts=started)
        try:
            session = self.client.session(target.address, options, target.device.id)
            # every request of the poll together: never longer than the round's interval
            result, _ = await asyncio.wait_for(
                self.poller.poll(session, options, self.memory_for(target), options.max_repetitions), target.probe.interval
            )
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            return target.failure(f"poll not finished within the round's interval ({target.probe.interval:g} s)", ts=started)
        except Exception as exc:  # never let one device end the round
            return target.failure(describe_exception(exc), ts=started)
        info = dict(result.info)
        info["snmp"] = options.describe()
        if result.problems:
            info["problems"] = "; ".join(result.problems)
        return target.sample(result.ok, ts=result.ts, metrics=result.metrics, error=result.message, info=info)

    async def close(self) -> None:
        await self.client.close()

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_endpoint_arguments(parser)
        parser.add_argument("--interfaces", help="comma-separated ifName/ifDescr/ifAlias/ifIndex, or all")
        parser.add_argument(
            "--oid", action="append", default=[], metavar="NAME=OID[:counter]", help="a vendor value to read (repeatable)"
        )

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        options = endpoint_options(args)
        if args.interfaces:
            options["interfaces"] = [part.strip() for part in args.interfaces.split(",") if part.strip()]
        oids = []
        for item in args.oid:
            name, _, rest = item.partition("=")
            oid, _, kind = rest.partition(":")
            oids.append({"name": name.strip(), "oid": oid.strip(), "type": kind.strip() or "gauge"})
        if oids:
            options["oids"] = oids
        return options
