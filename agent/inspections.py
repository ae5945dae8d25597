"""SSH inspections (巡检): run them on their schedules or on demand, file them in the ledger.

Every device probe of the ``ssh`` collector with a ``schedule`` (``workdays 08:30``, ``weekly
mon 09:00`` ...) is inspected at those times: ``InspectionScheduler`` registers them as jobs of
the agent's scheduler (``InspectionTrigger``); ``yunwei inspect`` runs the same code now. Each inspection that was carried out (the login worked and the
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
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from collectors import registry
from collectors.base import CollectorContext, Target
from core.errors import InputError
from core.model import Sample
from core.timefmt import to_iso
from inventory.config import Inventory
from inventory.schedule import When, parse_when
from store.db import Store

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult

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


class InspectionTrigger(BaseTrigger):
    """An APScheduler trigger that fires at the times of schedule phrases, in the agent's zone.

    CronTrigger cannot say ``workdays`` (China's official calendar, 调休 Saturdays included) nor
    "day 31, or the month's last day", so the phrases' own ``When.next_after`` decides."""

    def __init__(self, whens: Sequence[When], timezone: str) -> None:
        self.whens = tuple(whens)
        self.timezone = timezone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        after = previous_fire_time if previous_fire_time is not None else now - timedelta(microseconds=1)
        moment = after.astimezone(ZoneInfo(self.timezone))
        return min(w.next_after(moment) for w in self.whens)

    def __str__(self) -> str:
        return ", ".join(str(w) for w in self.whens)

    def __repr__(self) -> str:
        return f"<InspectionTrigger ({self}) {self.timezone}>"


@dataclass
class InspectionPlan:
    """The targets that share one set of schedule phrases: one job of the agent's scheduler."""

    job_id: str
    whens: tuple[When, ...]
    targets: list[Target] = field(default_factory=list)


JOB_PREFIX = "inspections:"
CATCH_UP_JOB = JOB_PREFIX + "catch-up"


def inspection_plans(inventory: Inventory) -> list[InspectionPlan]:
    """Every ssh probe with a ``schedule``, grouped by its phrases (one batch per due time)."""
    plans: dict[tuple[When, ...], InspectionPlan] = {}
    for target in inspection_targets(inventory):
        phrases = list(getattr(target.options, "schedule", []) or [])
        if not phrases:
            continue
        whens = tuple(dict.fromkeys(parse_when(p) for p in phrases))
        plan = plans.get(whens)
        if plan is None:
            plan = plans[whens] = InspectionPlan(JOB_PREFIX + " | ".join(str(w) for w in whens), whens)
        plan.targets.append(target)
    return list(plans.values())


class InspectionScheduler:
    """Registers every scheduled inspection as a job of the agent's scheduler (a component).

    One job per set of schedule phrases, fired by an ``InspectionTrigger``; at start, the
    inspections missed earlier today run at once (a one-off job, ``"trigger": "catch-up"``).
    A run that is due while the previous run of the same job still goes is skipped and logged;
    a run the agent notices late (the machine slept) runs once when it wakes."""

    def __init__(self) -> None:
        self.agent: Agent | None = None
        self.plans: list[InspectionPlan] = []

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        self.register(agent.inventory)
        if not self.plans:
            return
        now = time.time()
        log.info("%d device(s) have scheduled inspections; next at %s", self._count(), self._next_text(now))
        missed = await self.missed_today(now)
        if missed:
            log.warning(
                "catching up %d inspection(s) due earlier today that did not run (agent down): %s",
                len(missed),
                ", ".join(t.device.id for t in missed),
            )
            agent.add_job(self.run, "date", CATCH_UP_JOB, missed, "catch-up", misfire_grace_time=None)

    def register(self, inventory: Inventory) -> None:
        """(Re)register one job per plan; the jobs of plans gone are removed."""
        agent = self.agent
        assert agent is not None
        agent.remove_jobs(JOB_PREFIX)
        self.plans = inspection_plans(inventory)
        for plan in self.plans:
            trigger = InspectionTrigger(plan.whens, inventory.agent.timezone)
            agent.add_job(self.run, trigger, plan.job_id, plan.targets, "schedule", misfire_grace_time=None)

    async def missed_today(self, now: float) -> list[Target]:
        """Targets whose last time due today (at or before ``now``) left no sample of the probe since.

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
            for target in plan.targets:
                tried = await agent.in_writer(agent.db.samples_for, target.device.id, max(due).timestamp(), target.probe.name)
                if not tried:
                    missed.append(target)
        return missed

    def _count(self) -> int:
        return sum(len(plan.targets) for plan in self.plans)

    def _next_text(self, now: float) -> str:
        assert self.agent is not None
        timezone = self.agent.inventory.agent.timezone
        moment = datetime.fromtimestamp(now, ZoneInfo(timezone))
        return to_iso(min(w.next_after(moment) for p in self.plans for w in p.whens).timestamp(), timezone)

    async def run(self, targets: list[Target], trigger: str) -> None:
        """The job: inspect ``targets`` now and file their records."""
        agent = self.agent
        assert agent is not None
        try:
            await run_inspections(agent.inventory, targets, agent.in_writer, agent.db, trigger)
        except Exception:
            log.exception("scheduled inspections failed")

    async def on_round(self, result: RoundResult) -> None:
        pass

    async def on_reload(self, inventory: Inventory) -> None:
        """Re-plan from the new config (no catch-up: a reload is not a restart)."""
        if self.agent is not None:
            self.register(inventory)

    async def stop(self) -> None:
        """Nothing of its own: the agent's scheduler stops the jobs."""
