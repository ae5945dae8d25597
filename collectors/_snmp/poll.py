"""One device's SNMP round: system group, chosen IF-MIB interfaces, user-defined OIDs.

Per round, in the steady state, a device costs one GET (system group + user OIDs + every
chosen interface's columns, split when it grows past ``MAX_VARBINDS``). The ifIndex of each
chosen interface is found by walking ifName/ifDescr/ifAlias once, and again after a reboot,
when an interface vanishes, or every ``reindex_interval`` seconds.

What the device got wrong (a wrong type, a missing row, an unknown interface) is collected
in ``problems``: the poll goes on with everything else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from collectors._snmp import ber, oids
from collectors._snmp.ber import Oid, VarBind
from collectors._snmp.counters import CounterSet, Reading, rebooted
from collectors._snmp.interfaces import (
    COLUMNS_32,
    HC_COLUMNS,
    OPER_STATUS,
    Interface,
    interface_keys,
    read_interfaces,
    select_interfaces,
    unique_labels,
)
from collectors._snmp.session import Session, SnmpError, walk_columns
from collectors._snmp.varbinds import COUNTER_TAGS, fast_number, get_many, numeric, text


class UserOid(BaseModel):
    """A vendor value to read: CPU, memory, temperature ..."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="metric name, e.g. cpu_percent")
    oid: str = Field(description="numeric OID of the instance (or of the column with walk:)")
    type: Literal["gauge", "counter"] = "gauge"
    scale: float = 1.0
    walk: Literal["max", "min", "avg", "sum"] | None = Field(
        None, description="walk the column and combine its rows (e.g. the busiest of several CPUs)"
    )

    @field_validator("oid")
    @classmethod
    def _numeric(cls, value: str) -> str:
        ber.parse_oid(value)
        return value.strip().lstrip(".")

    @property
    def oid_tuple(self) -> Oid:
        return ber.parse_oid(self.oid)


class PollOptions(BaseModel):
    """What to read from a device beyond the system group."""

    model_config = ConfigDict(extra="forbid")

    interfaces: list[str | int] = Field(
        default_factory=list,
        description='interfaces by ifName, ifDescr, ifAlias (globs allowed) or ifIndex; "all" for every one',
    )
    oids: list[UserOid] = Field(default_factory=list)
    reindex_interval: float = Field(3600.0, gt=0, description="seconds between re-reads of the interface names")

    @field_validator("oids")
    @classmethod
    def _unique_names(cls, value: list[UserOid]) -> list[UserOid]:
        names = [o.name for o in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate OID name(s): {', '.join(duplicates)}")
        return value


@dataclass
class DeviceMemory:
    """What a collector keeps per device between rounds."""

    uptime: Reading | None = None
    interfaces: list[Interface] | None = None
    indexed_at: float = 0.0
    selected: list[Interface] = field(default_factory=list)
    counters: CounterSet = field(default_factory=CounterSet)
    hc: bool | None = None  # 64-bit counters answered
    unmatched: str | None = None  # selectors that named no interface at the last re-index
    column_cache: tuple[object, list[Oid]] | None = None  # the interfaces' column OIDs, built once
    last_seen: float = 0.0
    reboots: int = 0


@dataclass
class PollResult:
    ok: bool
    ts: float
    metrics: dict[str, float] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def message(self) -> str | None:
        """The Sample's error: the failure, or what the device got partly wrong."""
        if self.error:
            return self.error
        return "; ".join(self.problems) if self.problems else None


class DevicePoller:
    """Polls one device per call, keeping its memory between calls."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    async def poll(
        self,
        session: Session,
        options: PollOptions,
        memory: DeviceMemory,
        max_repetitions: int = 25,
        extra: Sequence[Oid] = (),
    ) -> tuple[PollResult, list[VarBind]]:
        """One round for one device. ``extra`` OIDs are fetched in the first GET and returned raw."""
        started = self.clock()
        result = PollResult(ok=False, ts=started)
        scalar_oids = [o.oid_tuple for o in options.oids if o.walk is None]
        # In the steady state the interfaces' columns ride in the same GET as the system group.
        prefetch = bool(options.interfaces) and self._indexed(options, memory, started)
        columns = self._column_oids(session, memory) if prefetch else []
        # before a walk of the interface table, ifNumber sizes its GETBULKs
        sizing = [oids.IF_NUMBER] if options.interfaces and not prefetch else []
        first = [*oids.SYSTEM, *scalar_oids, *extra, *columns, *sizing]
        clock = time.perf_counter()
        try:
            answer = await get_many(session, first)
        except SnmpError as exc:
            result.error = str(exc)
            return result, []
        except OSError as exc:
            result.error = f"cannot reach the agent: {exc.strerror or exc}"
            return result, []
        result.metrics["rtt_seconds"] = time.perf_counter() - clock
        at = self.clock()
        result.ok = True
        memory.last_seen = at
        if_repetitions = max_repetitions
        if sizing:
            count = answer.pop()
            if count.tag == ber.INTEGER and isinstance(count.value, int) and count.value >= 0:
                if_repetitions = max(1, min(max_repetitions, count.value + 1))
        split = 4 + len(scalar_oids)
        system, user_values = answer[:4], answer[4:split]
        extra_values, column_values = answer[split : split + len(extra)], answer[split + len(extra) :]
        did_reboot = self._system(system, at, memory, result)
        try:
            await self._user_oids(session, options, user_values, at, memory, result, max_repetitions)
            if options.interfaces:
                prefetched = (self._rows(column_values, session, memory), at) if columns and not did_reboot else None
                await self._interfaces(session, options, memory, result, if_repetitions, did_reboot, prefetched)
        except SnmpError as exc:  # the agent answered the first GET but not a later one
            result.problems.append(f"stopped part-way: {exc}")
        return result, list(extra_values)

    def _system(self, system: list[VarBind], at: float, memory: DeviceMemory, result: PollResult) -> bool:
        descr, object_id, uptime, name = system
        for varbind, key in ((descr, "sys_descr"), (name, "sys_name")):
            if varbind.tag == ber.OCTET_STRING:
                result.info[key] = text(varbind.value)[:255]
            elif not varbind.is_exception:
                result.problems.append(f"{key}: expected OCTET STRING, got {varbind.type_name}")
        if object_id.tag == ber.OBJECT_IDENTIFIER:
            result.info["sys_object_id"] = text(object_id.value)
        did_reboot = False
        if uptime.tag != ber.TIMETICKS:
            if uptime.is_exception:
                result.problems.append(f"sysUpTime: {uptime.type_name}")
            else:
                result.problems.append(f"sysUpTime: expected TimeTicks, got {uptime.type_name}: reboots not detected")
        else:
            ticks = int(uptime.value)
            did_reboot = rebooted(memory.uptime, ticks, at)
            result.metrics["uptime_seconds"] = ticks / 100
            result.metrics["rebooted"] = 1.0 if did_reboot else 0.0
            if did_reboot and memory.uptime is not None:
                memory.reboots += 1
                result.info["reboot"] = (
                    f"uptime went from {memory.uptime.value / 100:.0f} s to {ticks / 100:.0f} s: "
                    f"the device restarted about {ticks / 100:.0f} s ago"
                )
                memory.counters.reset()
                memory.interfaces = None
            memory.uptime = Reading(ticks, at)
        return did_reboot

    async def _user_oids(
        self,
        session: Session,
        options: PollOptions,
        values: list[VarBind],
        at: float,
        memory: DeviceMemory,
        result: PollResult,
        max_repetitions: int,
    ) -> None:
        scalars = [o for o in options.oids if o.walk is None]
        for spec, varbind in zip(scalars, values, strict=True):
            self._user_value(spec, numeric(varbind, spec.name, result.problems, spec.type == "counter"), at, memory, result)
        walked = [o for o in options.oids if o.walk is not None]
        if not walked:
            return
        rows, problems = await walk_columns(session, [o.oid_tuple for o in walked], max_repetitions)
        result.problems.extend(problems)
        walk_at = self.clock()
        for spec in walked:
            row_problems: list[str] = []
            numbers = [numeric(v, spec.name, row_problems, spec.type == "counter") for v in rows[spec.oid_tuple]]
            if row_problems:  # one line for the column, not one per row (a walk may have thousands)
                more = f" (and {len(row_problems) - 1} more rows like it)" if len(row_problems) > 1 else ""
                result.problems.append(row_problems[0] + more)
            present = [n for n in numbers if n is not None]
            if not present:
                if not rows[spec.oid_tuple]:
                    result.problems.append(f"{spec.name}: the column {spec.oid} has no rows")
                continue
            combined = {"max": max, "min": min, "sum": sum, "avg": lambda xs: sum(xs) / len(xs)}[spec.walk or "max"](present)
            self._user_value(spec, combined, walk_at, memory, result)

    @staticmethod
    def _user_value(spec: UserOid, value: float | None, at: float, memory: DeviceMemory, result: PollResult) -> None:
        if value is None:
            return
        if spec.type == "gauge":
            result.metrics[spec.name] = value * spec.scale
            return
        rate = memory.counters.rate(f"oid:{spec.name}", int(value), at, bits=64 if value >= 2**32 else 32)
        if rate is not None:
            result.metrics[spec.name] = rate * spec.scale

    async def _interfaces(
        self,
        session: Session,
        options: PollOptions,
        memory: DeviceMemory,
        result: PollResult,
        max_repetitions: int,
        did_reboot: bool,
        prefetched: tuple[dict[int, dict[str, VarBind]], float] | None = None,
    ) -> None:
        reindexed = False
        if prefetched is None and (did_reboot or not self._indexed(options, memory, self.clock())):
            await self._reindex(session, options, memory, result, max_repetitions)
            reindexed = True
        if memory.unmatched:
            result.problems.append(memory.unmatched)
        if not memory.selected:
            return
        values, at = prefetched if prefetched is not None else await self._read_columns(session, memory)
        if not reindexed and any(values[i.index]["oper"].is_exception for i in memory.selected):
            await self._reindex(session, options, memory, result, max_repetitions)  # an interface vanished
            if memory.unmatched and memory.unmatched not in result.problems:
                result.problems.append(memory.unmatched)
            if not memory.selected:
                return
            values, at = await self._read_columns(session, memory)
        if memory.hc is None and session.version != 0:
            hc_missing = all(values[i.index]["in"].is_exception for i in memory.selected)
            oper_present = any(not values[i.index]["oper"].is_exception for i in memory.selected)
            memory.hc = not (hc_missing and oper_present)
            if not memory.hc:
                result.problems.append("no 64-bit counters (ifHCInOctets): using 32-bit ifInOctets")
                values, at = await self._read_columns(session, memory)
        labels = unique_labels(memory.selected)
        down = 0
        for interface in memory.selected:
            label = labels[interface.index]
            result.info[f"if.{label}.index"] = str(interface.index)  # a trap names the interface by ifIndex only
            if interface.alias:
                result.info[f"if.{label}.alias"] = interface.alias
            down += self._interface_metrics(label, values[interface.index], at, memory, result)
        result.metrics["interfaces_down"] = float(down)

    async def _reindex(
        self, session: Session, options: PollOptions, memory: DeviceMemory, result: PollResult, max_repetitions: int
    ) -> None:
        interfaces, problems = await read_interfaces(session, max_repetitions)
        result.problems.extend(problems)
        memory.interfaces = interfaces
        memory.column_cache = None
        memory.indexed_at = self.clock()
        selected, unmatched = select_interfaces(interfaces, options.interfaces)
        memory.unmatched = None
        if unmatched:
            known = ", ".join(i.label for i in interfaces[:12]) + (" ..." if len(interfaces) > 12 else "")
            memory.unmatched = f"interface(s) not found: {', '.join(unmatched)} (device has: {known or 'none'})"
        memory.selected = selected

    @staticmethod
    def _indexed(options: PollOptions, memory: DeviceMemory, now: float) -> bool:
        """Whether the chosen interfaces' indexes are known and fresh (no walk needed)."""
        return memory.interfaces is not None and now - memory.indexed_at <= options.reindex_interval

    @staticmethod
    def _columns(session: Session, memory: DeviceMemory) -> tuple[tuple[str, Oid], ...]:
        return COLUMNS_32 if (memory.hc is False or session.version == 0) else HC_COLUMNS

    def _column_oids(self, session: Session, memory: DeviceMemory) -> list[Oid]:
        columns = self._columns(session, memory)
        if memory.column_cache is None or memory.column_cache[0] is not columns:
            oids_ = [(*column, interface.index) for interface in memory.selected for _, column in columns]
            memory.column_cache = (columns, oids_)
        return memory.column_cache[1]

    async def _read_columns(self, session: Session, memory: DeviceMemory) -> tuple[dict[int, dict[str, VarBind]], float]:
        answer = await get_many(session, self._column_oids(session, memory))
        return self._rows(answer, session, memory), self.clock()

    def _rows(self, answer: list[VarBind], session: Session, memory: DeviceMemory) -> dict[int, dict[str, VarBind]]:
        columns = self._columns(session, memory)
        values: dict[int, dict[str, VarBind]] = {}
        position = 0
        for interface in memory.selected:
            row = values.setdefault(interface.index, {})
            for key, _ in columns:
                row[key] = answer[position]
                position += 1
        return values

    @staticmethod
    def _interface_metrics(
        label: str, row: dict[str, VarBind], at: float, memory: DeviceMemory, result: PollResult
    ) -> int:
        """Metrics of one interface; returns 1 when it is administratively up but not operating."""
        problems = result.problems
        metrics = result.metrics
        keys = interface_keys(label)
        prefix = keys["prefix"]
        hc = row["in"].tag == ber.COUNTER64 or (memory.hc is not False and row["in"].tag in ber.EXCEPTION_TAGS)
        admin = fast_number(row["admin"]) or numeric(row["admin"], f"{prefix} ifAdminStatus", problems)
        oper = fast_number(row["oper"]) or numeric(row["oper"], f"{prefix} ifOperStatus", problems)
        if admin is not None:
            metrics[keys["admin_up"]] = 1.0 if admin == 1 else 0.0
        if oper is not None:
            metrics[keys["oper_up"]] = 1.0 if oper == 1 else 0.0
            result.info[keys["status"]] = OPER_STATUS.get(int(oper), str(oper))
        speed = fast_number(row["speed"])
        if speed is None:
            speed = numeric(row["speed"], f"{prefix} speed", problems)
        speed_bps = None
        if speed:
            speed_bps = float(speed) * (1e6 if hc else 1.0)
            metrics[keys["speed_bps"]] = speed_bps
        bits = 64 if hc else 32
        counters = memory.counters
        for direction in ("in", "out"):
            varbind = row[direction]
            value = varbind.value if varbind.tag in COUNTER_TAGS else numeric(
                varbind, f"{prefix} {direction} octets", problems, counter=True
            )
            if value is None:
                counters.readings.pop(keys[direction], None)
                continue
            rate = counters.rate(keys[direction], int(value), at, bits=bits, max_per_second=speed_bps / 8 if speed_bps else 5e10)
            if rate is not None:
                bps = rate * 8
                metrics[keys[f"{direction}_bps"]] = bps
                if speed_bps:
                    metrics[keys[f"{direction}_util_percent"]] = 100.0 * bps / speed_bps
        for key in ("in_errors", "out_errors", "in_discards", "out_discards"):
            varbind = row[key]
            value = varbind.value if varbind.tag in COUNTER_TAGS else numeric(varbind, f"{prefix} {key}", problems, counter=True)
            if value is None:
                continue
            delta = counters.delta(keys[key], int(value), at)
            if delta is not None:
                metrics[keys[key]] = float(delta)
        return 1 if admin == 1 and oper is not None and oper != 1 else 0
