"""Demo part: a switch, a leased line and two UPS units, simulated in-process (Python only).

- ``core-sw`` answers SNMP v2c (an in-process agent speaking the same BER codec as the
  collector): system group, four interfaces with 64-bit counters, Huawei CPU/temperature
  OIDs. Its uplink carries the line's traffic, one access port goes down mid-demo, and the
  switch reboots near the end (uptime back to zero).
- ``line-egov`` is a 100M leased line on the uplink: its traffic climbs to ~95 % of the
  contract for a while (degraded: sustained utilisation), its far end answers ICMP when ICMP
  is usable here, else the line is judged by the edge interface alone.
- ``ups-hotline`` speaks NUT's upsd protocol: mains fail at a third of the demo (OB), the
  battery runs low (OB LB), mains come back (OL). ``ups-vc`` answers UPS-MIB by SNMP: on
  mains, but its 32 aged batteries hold 95 minutes, below the 3 h required.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import random
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from collectors._snmp import ber, oids
from collectors._snmp.ber import Oid, VarBind
from collectors._snmp.ber_responder import decode_request, encode_response
from collectors.icmp import icmp_permission_problem
from core.model import Sample
from demo.fleet import DemoContext, DemoFleet
from store.db import open_store

COMMUNITY = "demo-ro"
HUAWEI_CPU = (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 1, 1, 5, 16842753)
HUAWEI_TEMP = (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 1, 1, 11, 16842753)
Mib = dict[Oid, tuple[int, Any]]


class SnmpResponder(asyncio.DatagramProtocol):
    """A v1/v2c agent over a MIB computed at each request (GET, GETNEXT, GETBULK)."""

    def __init__(self, community: str, mib: Callable[[], Mib]) -> None:
        self.community = community.encode()
        self.mib = mib
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            request = decode_request(data)
        except ber.BerError:
            return
        if request.community != self.community or self.transport is None:
            return  # like a real agent: a wrong community gets silence
        mib = self.mib()
        keys = sorted(mib)
        answer: list[VarBind] = []
        error_status = error_index = 0

        def following(oid: Oid) -> VarBind:
            position = bisect.bisect_right(keys, oid)
            if position >= len(keys):
                return VarBind(oid, ber.END_OF_MIB_VIEW, None)
            found = keys[position]
            return VarBind(found, *mib[found])

        if request.pdu_type == ber.GET:
            for position, oid in enumerate(request.oids, 1):
                if oid in mib:
                    answer.append(VarBind(oid, *mib[oid]))
                elif request.version == 0:
                    error_status, error_index = 2, position
                    answer = [VarBind(o, ber.NULL, None) for o in request.oids]
                    break
                else:
                    answer.append(VarBind(oid, ber.NO_SUCH_INSTANCE, None))
        elif request.pdu_type == ber.GET_NEXT:
            answer = [following(oid) for oid in request.oids]
        elif request.pdu_type == ber.GET_BULK:
            plain, repeated = request.oids[: request.non_repeaters], request.oids[request.non_repeaters :]
            answer = [following(oid) for oid in plain]
            cursors = list(repeated)
            for _ in range(max(0, min(request.max_repetitions, 50))):
                row = [following(oid) for oid in cursors]
                answer.extend(row)
                cursors = [vb.oid for vb in row]
                if all(vb.tag == ber.END_OF_MIB_VIEW for vb in row):
                    break
        else:
            return
        self.transport.sendto(
            encode_response(request.version, request.community, request.request_id, answer, error_status, error_index),
            addr,
        )


class _Interface:
    def __init__(self, index: int, name: str, alias: str, mbps: int, rate: Callable[[float], tuple[float, float]]) -> None:
        self.index, self.name, self.alias, self.mbps, self.rate = index, name, alias, mbps, rate
        self.octets_in = random.randint(10**9, 10**12)
        self.octets_out = random.randint(10**9, 10**12)
        self.oper_up = True
        self.last: float | None = None

    def advance(self, now: float, phase: float) -> None:
        if self.last is not None and self.oper_up:
            bps_in, bps_out = self.rate(phase)
            elapsed = now - self.last
            self.octets_in = (self.octets_in + int(bps_in * elapsed / 8)) % 2**64
            self.octets_out = (self.octets_out + int(bps_out * elapsed / 8)) % 2**64
        self.last = now


class SimulatedSwitch:
    """The MIB of a Huawei-like access switch whose state follows the demo's clock."""

    def __init__(self, seconds: float, sys_name: str = "JF-Core-S5735") -> None:
        self.seconds, self.sys_name = seconds, sys_name
        self.started = time.monotonic()
        self.booted = self.started - 86400 * 37  # up for 37 days when the demo starts
        self.rebooted = False
        self.unplugged: set[int] = set()  # ifIndexes a script took down (the trap demo); seconds=0: no timed story

        def uplink(phase: float) -> tuple[float, float]:
            busy = 0.35 <= phase < 0.65  # the line's busy spell: ~95 % of 100M
            down = random.uniform(93e6, 97e6) if busy else random.uniform(20e6, 45e6)
            return down, down / 4

        self.interfaces = [
            _Interface(1, "GigabitEthernet0/0/1", "至电子政务外网 100M 专线", 1000, uplink),
            _Interface(2, "GigabitEthernet0/0/2", "UPS 机房", 1000, lambda p: (2e5, 1e5)),
            _Interface(3, "GigabitEthernet0/0/24", "会议室", 1000, lambda p: (5e6, 3e6)),
            _Interface(4, "Vlanif100", "管理", 1000, lambda p: (1e4, 1e4)),
        ]

    def phase(self, now: float) -> float:
        return (now - self.started) / self.seconds if self.seconds else 0.0

    def mib(self) -> Mib:
        now = time.monotonic()
        phase = self.phase(now)
        if phase >= 0.8 and not self.rebooted:  # power cycled: uptime and counters start again
            self.rebooted = True
            self.booted = now
            for interface in self.interfaces:
                interface.octets_in = interface.octets_out = 0
        for interface in self.interfaces:
            interface.oper_up = interface.index not in self.unplugged
        if 0.3 <= phase < 0.7:  # the meeting-room port goes down a while
            self.interfaces[2].oper_up = False
        mib: Mib = {
            oids.SYS_DESCR: (ber.OCTET_STRING, b"Huawei Versatile Routing Platform Software VRP (R) software, Version 5.170 (S5735 V200R021C10)"),
            oids.SYS_OBJECT_ID: (ber.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 2011, 2, 23, 619)),
            oids.SYS_UPTIME: (ber.TIMETICKS, int((now - self.booted) * 100) % 2**32),
            oids.SYS_NAME: (ber.OCTET_STRING, self.sys_name.encode()),
            (1, 3, 6, 1, 2, 1, 2, 1, 0): (ber.INTEGER, len(self.interfaces)),
            HUAWEI_CPU: (ber.INTEGER, random.randint(8, 15) + (40 if 0.35 <= phase < 0.65 else 0)),
            HUAWEI_TEMP: (ber.INTEGER, random.randint(41, 44)),
        }
        for interface in self.interfaces:
            interface.advance(now, phase)
            i = interface.index
            mib[(*oids.IF_DESCR, i)] = (ber.OCTET_STRING, interface.name.encode())
            mib[(*oids.IF_SPEED, i)] = (ber.GAUGE32, min(interface.mbps * 10**6, 2**32 - 1))
            mib[(*oids.IF_ADMIN_STATUS, i)] = (ber.INTEGER, 1)
            mib[(*oids.IF_OPER_STATUS, i)] = (ber.INTEGER, 1 if interface.oper_up else 2)
            mib[(*oids.IF_IN_OCTETS, i)] = (ber.COUNTER32, interface.octets_in % 2**32)
            mib[(*oids.IF_OUT_OCTETS, i)] = (ber.COUNTER32, interface.octets_out % 2**32)
            for column in (oids.IF_IN_DISCARDS, oids.IF_IN_ERRORS, oids.IF_OUT_DISCARDS, oids.IF_OUT_ERRORS):
                mib[(*column, i)] = (ber.COUNTER32, 0)
            mib[(*oids.IF_NAME, i)] = (ber.OCTET_STRING, interface.name.encode())
            mib[(*oids.IF_HC_IN_OCTETS, i)] = (ber.COUNTER64, interface.octets_in)
            mib[(*oids.IF_HC_OUT_OCTETS, i)] = (ber.COUNTER64, interface.octets_out)
            mib[(*oids.IF_HIGH_SPEED, i)] = (ber.GAUGE32, interface.mbps)
            mib[(*oids.IF_ALIAS, i)] = (ber.OCTET_STRING, interface.alias.encode())
        return mib


def conference_ups_mib() -> Mib:
    """The VC room's UPS (32 batteries): on mains, but only 95 minutes left in the batteries."""
    return {
        oids.SYS_DESCR: (ber.OCTET_STRING, b"Online UPS 10kVA, UPS-MIB RFC 1628"),
        oids.SYS_OBJECT_ID: (ber.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 935, 10)),
        oids.SYS_UPTIME: (ber.TIMETICKS, int(time.monotonic() * 100) % 2**32),
        oids.SYS_NAME: (ber.OCTET_STRING, b"VC-UPS"),
        oids.UPS_IDENT_MANUFACTURER: (ber.OCTET_STRING, "山特".encode()),
        oids.UPS_IDENT_MODEL: (ber.OCTET_STRING, b"C10KS"),
        oids.UPS_BATTERY_STATUS: (ber.INTEGER, 2),
        oids.UPS_SECONDS_ON_BATTERY: (ber.INTEGER, 0),
        oids.UPS_MINUTES_REMAINING: (ber.INTEGER, 95),
        oids.UPS_CHARGE_REMAINING: (ber.INTEGER, 100),
        oids.UPS_BATTERY_TEMPERATURE: (ber.INTEGER, 26),
        oids.UPS_INPUT_VOLTAGE_1: (ber.INTEGER, 221),
        oids.UPS_OUTPUT_SOURCE: (ber.INTEGER, 3),
        oids.UPS_OUTPUT_VOLTAGE_1: (ber.INTEGER, 220),
        oids.UPS_OUTPUT_LOAD_1: (ber.INTEGER, 41),
        oids.UPS_ALARMS_PRESENT: (ber.GAUGE32, 0),
    }


class NutResponder:
    """Just enough of upsd's protocol (LIST VAR, GET VAR, LOGOUT) for one UPS."""

    def __init__(self, ups: str, variables: Callable[[], dict[str, str]]) -> None:
        self.ups, self.variables = ups, variables
        self.server: asyncio.AbstractServer | None = None

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._serve, host, port, reuse_address=True)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while line := (await reader.readline()).decode(errors="replace").split():
                if line[:2] == ["LIST", "VAR"] and len(line) == 3:
                    if line[2] != self.ups:
                        writer.write(b"ERR UNKNOWN-UPS\n")
                    else:
                        body = "".join(f'VAR {self.ups} {k} "{v}"\n' for k, v in self.variables().items())
                        writer.write(f"BEGIN LIST VAR {self.ups}\n{body}END LIST VAR {self.ups}\n".encode())
                elif line[:2] == ["GET", "VAR"] and len(line) == 4:
                    value = self.variables().get(line[3])
                    writer.write(
                        f'VAR {line[2]} {line[3]} "{value}"\n'.encode() if value is not None else b"ERR VAR-NOT-SUPPORTED\n"
                    )
                elif line[0] == "LOGOUT":
                    writer.write(b"OK Goodbye\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"ERR UNKNOWN-COMMAND\n")
                await writer.drain()
        writer.close()


class HotlineUps:
    """The 12345 hotline's UPS: mains fail, the battery runs low, mains return."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.started = seconds, time.monotonic()

    def variables(self) -> dict[str, str]:
        phase = (time.monotonic() - self.started) / self.seconds if self.seconds else 0.0
        values = {"ups.mfr": "APC", "ups.model": "Smart-UPS SRT 6000", "ups.load": "38", "output.voltage": "220.0"}
        if phase < 0.3 or phase >= 0.75:
            values.update({"ups.status": "OL" if phase < 0.3 else "OL CHRG", "battery.charge": "100" if phase < 0.3 else "31",
                           "battery.runtime": "12600", "input.voltage": "221.0"})
        elif phase < 0.55:
            values.update({"ups.status": "OB DISCHRG", "battery.charge": "64", "battery.runtime": "7200", "input.voltage": "0.0"})
        else:
            values.update({"ups.status": "OB LB", "battery.charge": "9", "battery.runtime": "420", "input.voltage": "0.0"})
        return values


def network_events(samples: list[Sample], label: str) -> list[tuple[float, str]]:
    """What the samples of one network device show happening, in words, with their times."""
    events: list[tuple[float, str]] = []
    previous: Sample | None = None
    for sample in samples:
        metrics, info = sample.metrics, sample.info
        if sample.probe == "ups" and "state" in info and (previous is None or previous.info.get("state") != info["state"]):
            detail = {
                "on_battery": f"mains lost, on battery ({metrics.get('charge_percent', 0):.0f} %)",
                "low_battery": f"LOW BATTERY ({metrics.get('charge_percent', 0):.0f} %, {metrics.get('runtime_seconds', 0) / 60:.0f} min left)",
                "online": "on mains" + (
                    f" again after {metrics['mains_restored_after_seconds']:.0f} s on battery"
                    if "mains_restored_after_seconds" in metrics else ""
                ),
                "runtime_below_required": f"runtime {metrics.get('runtime_seconds', 0) / 60:.0f} min is below the required "
                f"{metrics.get('required_runtime_seconds', 0) / 3600:g} h",
            }.get(info["state"], info["state"])
            events.append((sample.ts, f"{label}: {detail}"))
        if metrics.get("rebooted") == 1:
            events.append((sample.ts, f"{label}: {info.get('reboot', 'rebooted')}"))
        if sample.probe == "snmp" and previous is not None:
            for key, value in metrics.items():
                if key.endswith(".oper_up") and previous.metrics.get(key, value) != value:
                    name = key[3 : -len(".oper_up")]
                    events.append((sample.ts, f"{label}: interface {name} {'up' if value else 'DOWN'}"))
        if sample.probe == "line":
            was = previous.metrics.get("degraded", 0) if previous is not None else 0
            if metrics.get("degraded", 0) != was:
                text = f"DEGRADED: {info.get('degraded_reasons', '')}" if metrics.get("degraded") else "no longer degraded"
                events.append((sample.ts, f"{label}: {text}"))
        previous = sample
    return events


class NetworkPart:
    def __init__(self) -> None:
        self.transports: list[asyncio.DatagramTransport] = []
        self.nut: NutResponder | None = None
        self.data_dir: Path | None = None
        self.labels: dict[str, str] = {}

    async def _snmp(self, host: str, port: int, mib: Callable[[], Mib]) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: SnmpResponder(COMMUNITY, mib), local_addr=(host, port)
        )
        self.transports.append(transport)  # type: ignore[arg-type]

    async def start(self, ctx: DemoContext) -> DemoFleet:
        self.data_dir = ctx.data_dir
        port = random.randint(20000, 40000)
        switch = SimulatedSwitch(ctx.seconds)
        await self._snmp("127.0.4.1", port, switch.mib)
        await self._snmp("127.0.4.4", port, conference_ups_mib)
        hotline = HotlineUps(ctx.seconds)
        self.nut = NutResponder("hotline", hotline.variables)
        await self.nut.start("127.0.4.3", port + 1)

        snmp = {"community": COMMUNITY, "port": port, "timeout": 1, "retries": 1}
        fleet = DemoFleet(
            units=[{"id": "demo-net", "name": "示范网络中心"}],
            systems=[{"id": "demo-network", "name": "机房网络与专线", "unit": "demo-net"}],
            groups=[
                {"id": "net-core", "name": "核心交换", "unit": "demo-net", "system": "demo-network", "kind": "switch"},
                {"id": "net-lines", "name": "专线", "unit": "demo-net", "system": "demo-network", "kind": "line"},
                {"id": "net-ups", "name": "UPS", "unit": "demo-net", "system": "demo-network", "kind": "ups"},
            ],
        )
        fleet.devices.append(
            {
                "id": "core-sw",
                "name": "机房核心交换机 S5735",
                "group": "net-core",
                "address": "127.0.4.1",
                "probes": {
                    "snmp": {
                        **snmp,
                        "interfaces": ["GigabitEthernet0/0/1", "GigabitEthernet0/0/2", "会议室"],
                        "oids": [
                            {"name": "cpu_percent", "oid": ber.format_oid(HUAWEI_CPU[:-1]), "walk": "max"},
                            {"name": "temperature_c", "oid": ber.format_oid(HUAWEI_TEMP)},
                        ],
                    }
                },
            }
        )
        icmp_problem = _icmp_problem()
        line_probe: dict[str, Any] = {
            "burst": 0 if icmp_problem else 5,
            "period_ms": 50,
            "timeout": 1,
            "max_util_percent": 90,
            "degrade_after": 2,
            "edge": {**snmp, "address": "127.0.4.1", "interface": "GigabitEthernet0/0/1", "upstream": "out"},
        }
        fleet.devices.append(
            {
                "id": "line-egov",
                "name": "电子政务外网 100M 专线",
                "group": "net-lines",
                "address": "127.0.4.2",
                "attrs": {"bandwidth": "100M", "carrier": "电信"},
                "probes": {"line": line_probe},
            }
        )
        if icmp_problem:
            fleet.notes.append(f"ICMP not usable here ({icmp_problem}); the line is judged by its edge interface")
        fleet.devices.append(
            {
                "id": "ups-hotline",
                "name": "12345 热线 UPS",
                "group": "net-ups",
                "address": "127.0.4.3",
                "attrs": {"required_runtime_hours": 3},
                "probes": {"ups": {"source": "nut", "nut_ups": "hotline", "nut_port": port + 1, "timeout": 1}},
            }
        )
        fleet.devices.append(
            {
                "id": "ups-vc",
                "name": "视频会议室 UPS (32 节电池)",
                "group": "net-ups",
                "address": "127.0.4.4",
                "attrs": {"required_runtime_hours": 3},
                "probes": {"ups": {**snmp, "source": "snmp"}},
            }
        )
        fleet.notes.append("network: the hotline UPS loses mains at 30 %, runs low at 55 %, mains return at 75 %")
        self.labels = {d["id"]: d["name"] for d in fleet.devices}
        return fleet

    async def stop(self) -> None:
        for transport in self.transports:
            transport.close()
        if self.nut is not None:
            await self.nut.stop()
        self.print_events()

    def print_events(self) -> None:
        """The network story of the demo, from the samples the agent stored."""
        if self.data_dir is None or not (self.data_dir / "yunwei.db").exists():
            return

        with open_store(self.data_dir) as store:
            events = [e for device, label in self.labels.items() for e in network_events(store.samples_for(device), label)]
        if not events:
            return
        print("\nNetwork, line and UPS events:")
        for at, text in sorted(events):
            print(f"  {datetime.fromtimestamp(at, ZoneInfo('Asia/Shanghai')):%H:%M:%S}  {text}")


def _icmp_problem() -> str | None:
    return icmp_permission_problem()


def part() -> NetworkPart:
    return NetworkPart()
