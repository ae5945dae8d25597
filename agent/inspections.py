"""SSH inspections (巡检): run them on their schedules or on demand, file them in the ledger.

Every device probe of the ``ssh`` collector with a ``schedule`` (``workdays 08:30``, ``weekly
mon 09:00`` ...) is inspected at those times by ``InspectionScheduler``; ``yunwei inspect``
runs the same code now. Each inspection that was carried out (the login worked and the
commands answered) files a ledger record the compliance calculator counts::

    {"type": "record", "kind": "inspection", "id": "sw-1-20261103T083000", "unit": "fgw",
     "system": "zhengwu-net", "device": "sw-1", "at": "2026-11-03T08:30:00+08:00",
     "result": "ok" | "problem", "evidence": "/var/lib/yunwei/evidence/2026-11-03/sw-1-083000.txt",
     "evidence_sha256": "...", "figures": {"cpu_percent": 12.0, ...}, "problems": [...],
     "trigger": "schedule" | "catch-up" | "on demand"}

An inspection that could not be done (login refused, unknown host key, timeout) files no
record: it did not happen, and the contract counts it as missed. Its error sample is stored
like any other, so ``yunwei status`` shows it.

When the agent starts after a time an inspection was due *earlier the same day* (a working day
for ``workdays``) and no sample of that probe exists since then (the agent was down), the
inspection runs at once (``"trigger": "catch-up"``). A scheduled inspection of a device with no
unit (own, group's or system's) is refused when the config is loaded: its records could not be
filed, and the contract would count every one as missed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.background import ClockedTask
from collectors import registry
from collectors.base import CollectorContext, Target
from core.errors import InputError
from core.model import Sample
from core.timefmt import to_iso
from inventory.config import Inventory
from inventory.schedule import When, parse_when
from store.db import Store

if TYPE_CHECKING:
    from agent.runtime import Agent

log = logging.getLogger("yunwei.inspections")
COLLECTOR = "ssh"
FIGURE_KEYS = ("uptime_seconds", "cpu_percent", "memory_percent", "interfaces_down", "disk_percent")


def inspection_targets(inventory: Inventory, names: Sequence[str] = ()) -> list[Target]:
    """The ssh probes of the named devices or groups (all of them when ``names`` is empty).

    An unknown name, or a named device without an ssh probe, is an InputError.
    """
    targets: list[Target] = []
    problems = []
    wanted: list[str] = []
    for name in names:
        if name in inventory.devices:
            wanted.append(name)
        elif name in inventory.groups:
            members = [d.id for d in inventory.group_members(name)]
            wanted += [m for m in members if any(p.collector == COLLECTOR for p in inventory.devices[m].probes.values())]
            if not members:
                problems.append(f"group {name!r} has no devices")
        else:
            problems.append(f"{name!r} is neither a device nor a group of {inventory.source}")
    if names and not wanted and not problems:
        problems.append(f"none of {', '.join(names)} has an ssh probe")
    if problems:
        raise InputError.single("command line", "; ".join(problems))
    chosen = wanted if names else list(inventory.devices)
    for device_id in dict.fromkeys(chosen):
        device = inventory.devices[device_id]
        probes = [p for p in device.probes.values() if p.collector == COLLECTOR]
        if not probes and names and device_id in names:
            raise InputError.single(
                "command line", f"device {device_id!r} has no ssh probe (add probes: ssh: {{device_type: ...}} to it or its group)"
            )
        targets += [Target(device=device, probe=probe) for probe in probes]
    return targets


def record_for(inventory: Inventory, sample: Sample, trigger: str) -> tuple[str, dict[str, Any]] | None:
    """The ledger record (uid, body) of a carried-out inspection; None when it failed or has no unit."""
    if not sample.ok or "result" not in sample.info:
        return None
    device = inventory.devices.get(sample.device)
    if device is None:
        return None
    unit = inventory.unit_of(device.id)
    if unit is None:
        log.warning(
            "inspection of %s not filed in the ledger: the device has no unit (set unit: on it, its group or its system)",
            device.id,
        )
        return None
    timezone = inventory.agent.timezone
    stamp = datetime.fromtimestamp(sample.ts, ZoneInfo(timezone)).strftime("%Y%m%dT%H%M%S")
    record_id = f"{device.id}-{stamp}"
    problems = [p.strip() for p in sample.info.get("problems", "").split(";") if p.strip()]
    body: dict[str, Any] = {
        "type": "record",
        "kind": "inspection",
        "id": record_id,
        "unit": unit,
        "system": device.system,
        "device": device.id,
        "at": to_iso(int(sample.ts), timezone),
        "result": sample.info["result"],
        "evidence": sample.info.get("evidence"),
        "evidence_sha256": sample.info.get("evidence_sha256"),
        "figures": {k: round(v, 3) for k, v in sample.metrics.items() if k in FIGURE_KEYS},
        "problems": problems,
        "trigger": trigger,
    }
    return f"record:inspection:{record_id}", body


async def run_inspections(
    inventory: Inventory,
    targets: Sequence[Target],
    write: Callable[..., Awaitable[Any]],
    store: Store,
    trigger: str,
) -> list[tuple[Sample, dict[str, Any] | None]]:
    """Inspect ``targets`` now; store the samples and file the records via ``write(fn, *args)``."""
    if not targets:
        return []
    context = CollectorContext(agent_id=inventory.agent.id, data_dir=inventory.data_dir, timezone=inventory.agent.timezone)
    collector = registry.get(COLLECTOR)(context)
    try:
        samples = await collector.collect(targets)
    finally:
        await collector.close()
    await write(store.write_samples, samples)
    results: list[tuple[Sample, dict[str, Any] | None]] = []
    for sample in samples:
        record = record_for(inventory, sample, trigger)
        if record is not None:
            uid, body = record
            await write(store.put_event, uid, "record", sample.ts, body, inventory.agent.id)
        if sample.ok:
            log.info("inspected %s: %s (%s)", sample.device, sample.info.get("result"), sample.info.get("evidence"))
        else:
            log.warning("inspection of %s failed: %s", sample.device, sample.error)
        results.append((sample, record[1] if record else None))
    return results


@dataclass
class _Plan:
    target: Target
    whens: list[When]
    next_at: float


class InspectionScheduler(ClockedTask):
    """Runs every scheduled inspection when it is due (a component of the agent)."""

    def init_state(self) -> None:
        self.plans: list[_Plan] = []
        self.history: list[tuple[float, list[str]]] = []  # (clock time, devices) of every run

    def plan(self, inventory: Inventory, now: float) -> None:
        """(Re)compute every scheduled inspection's next time from ``now``."""
        zone = ZoneInfo(inventory.agent.timezone)
        moment = datetime.fromtimestamp(now, zone)
        plans = []
        for target in inspection_targets(inventory):
            phrases = list(getattr(target.options, "schedule", []) or [])
            if not phrases:
                continue
            whens = [parse_when(p) for p in phrases]
            plans.append(_Plan(target, whens, min(w.next_after(moment) for w in whens).timestamp()))
        self.plans = plans

    def due(self, now: float) -> list[_Plan]:
        return [plan for plan in self.plans if plan.next_at <= now]

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        now = self.clock()
        self.plan(agent.inventory, now)
        if self.plans:
            log.info("%d device(s) have scheduled inspections; next at %s", len(self.plans), self._next_text())
            missed = await self.missed_today(now)
            if missed:
                log.warning(
                    "catching up %d inspection(s) due earlier today that did not run (agent down): %s",
                    len(missed),
                    ", ".join(p.target.device.id for p in missed),
                )
            self.launch(lambda: self._loop(missed), "inspections")

    async def missed_today(self, now: float) -> list[_Plan]:
        """Plans whose last time due today (at or before ``now``) left no sample of the probe since.

        Only today counts (a working day for ``workdays``): an inspection missed yesterday is
        gone, the contract already counted it. A sample, even a failed one, means it was tried."""
        agent = self.agent
        assert agent is not None
        moment = datetime.fromtimestamp(now, ZoneInfo(agent.inventory.agent.timezone))
        missed = []
        for plan in self.plans:
            due = [at for at in (w.earlier_today(moment) for w in plan.whens) if at is not None]
            if not due:
                continue
            tried = await agent.in_writer(
                agent.db.samples_for, plan.target.device.id, max(due).timestamp(), plan.target.probe.name
            )
            if not tried:
                missed.append(plan)
        return missed

    def _next_text(self) -> str:
        assert self.agent is not None
        if not self.plans:
            return "-"
        return to_iso(min(p.next_at for p in self.plans), self.agent.inventory.agent.timezone)

    async def _loop(self, missed: Sequence[_Plan] = ()) -> None:
        assert self.agent is not None
        if missed:
            await self.run_due(list(missed), self.clock(), trigger="catch-up")
        while True:
            now = self.clock()
            due = self.due(now)
            if due:
                await self.run_due(due, now)
                continue
            await self.nap(min((p.next_at for p in self.plans), default=None), now)

    async def run_due(self, due: list[_Plan], now: float, trigger: str = "schedule") -> None:
        agent = self.agent
        assert agent is not None
        zone = ZoneInfo(agent.inventory.agent.timezone)
        self.history.append((now, [p.target.device.id for p in due]))
        for plan in due:  # the next time is fixed first: a slow inspection does not run twice
            plan.next_at = min(w.next_after(datetime.fromtimestamp(now, zone)) for w in plan.whens).timestamp()
        try:
            await run_inspections(agent.inventory, [p.target for p in due], agent.in_writer, agent.db, trigger)
        except Exception:
            log.exception("scheduled inspections failed")

    async def on_reload(self, inventory: Inventory) -> None:
        self.plan(inventory, self.clock())
        if self.plans and self.agent is not None:
            self.launch(self._loop, "inspections")
