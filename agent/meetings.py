"""Meeting readiness: probe every venue's terminal (and its camera/MCU) now, say who is ready.

A *venue* is a conference terminal (a device id), or every terminal of a group. Its related
devices are checked too: the ids in the terminal's ``attrs`` ``camera``, ``mcu`` and
``related`` (a string or a list), and its child devices (``parent:`` the terminal). A venue
is ready when its terminal and every related device are online by their own online rules
(``any(icmp, sip)`` for a terminal by default), with ICMP loss not above the meeting's
``max_loss_percent`` (default 0: the contract asks for "no loss") and, when set, RTT not above
``max_rtt_ms``. All probes run at once, through the same collectors as the agent's rounds.

``MeetingScheduler`` registers a job of the agent's scheduler that runs the check
``check_before_minutes`` (default 30) before every meeting in the config and files the result
as a ledger record (kind ``meeting_check``) that alerting posts to the chat groups. A check
already filed (same meeting, same time) is not repeated after a restart; an agent started
inside the lead time checks at once; a meeting whose start has passed is not checked any more.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from collectors import registry
from collectors.base import CollectorContext, Target
from core.errors import InputError
from core.model import Sample
from core.timefmt import to_iso
from inventory.config import Inventory
from inventory.models import ResolvedDevice
from inventory.online import parse_rule
from inventory.schedule import Meeting

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult

log = logging.getLogger("yunwei.meetings")
TERMINAL_KINDS = ("vc_terminal",)
RELATED_ATTRS = ("camera", "mcu", "related")


@dataclass
class Venue:
    id: str
    name: str
    terminal: ResolvedDevice
    related: list[ResolvedDevice] = field(default_factory=list)


@dataclass
class VenueResult:
    venue: str
    name: str
    ready: bool
    why: list[str] = field(default_factory=list)
    rtt_ms: float | None = None
    loss_percent: float | None = None
    devices: dict[str, bool] = field(default_factory=dict)  # device id → online

    def to_dict(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "name": self.name,
            "ready": self.ready,
            "why": "; ".join(self.why),
            "rtt_ms": None if self.rtt_ms is None else round(self.rtt_ms, 2),
            "loss_percent": self.loss_percent,
            "devices": self.devices,
        }


def resolve_venues(inventory: Inventory, names: Sequence[str], source: str = "command line") -> list[Venue]:
    """Venues named by device or group ids; an unknown id is an InputError."""
    problems = []
    terminals: list[ResolvedDevice] = []
    for name in names:
        if name in inventory.devices:
            terminals.append(inventory.devices[name])
        elif name in inventory.groups:
            members = inventory.group_members(name)
            chosen = [m for m in members if m.kind in TERMINAL_KINDS] or members
            if not chosen:
                problems.append(f"group {name!r} has no devices")
            terminals += chosen
        else:
            problems.append(f"venue {name!r} is neither a device nor a group")
    venues = []
    for terminal in dict((t.id, t) for t in terminals).values():
        related_ids: list[str] = []
        for key in RELATED_ATTRS:
            value = terminal.attrs.get(key)
            related_ids += [value] if isinstance(value, str) else [str(v) for v in value or []]
        related_ids += [child.id for child in inventory.children(terminal.id)]
        related = []
        for device_id in dict.fromkeys(related_ids):
            if device_id not in inventory.devices:
                problems.append(f"venue {terminal.id!r}: related device {device_id!r} does not exist")
            else:
                related.append(inventory.devices[device_id])
        venues.append(Venue(terminal.id, terminal.label, terminal, related))
    if problems:
        raise InputError.single(source, "; ".join(problems))
    return venues


async def probe_devices(inventory: Inventory, devices: Sequence[ResolvedDevice]) -> dict[str, list[Sample]]:
    """Every round probe of ``devices`` once, now, one batch per collector; samples by device."""
    context = CollectorContext(agent_id=inventory.agent.id, data_dir=inventory.data_dir, timezone=inventory.agent.timezone)
    batches: dict[str, list[Target]] = defaultdict(list)
    for device in devices:
        for probe in device.probes.values():
            if registry.get(probe.collector).in_rounds:
                batches[probe.collector].append(Target(device=device, probe=probe))

    async def run(name: str, targets: list[Target]) -> list[Sample]:
        collector = registry.get(name)(context)
        try:
            return await collector.collect(targets)
        finally:
            await collector.close()

    by_device: dict[str, list[Sample]] = defaultdict(list)
    for samples in await asyncio.gather(*(run(n, t) for n, t in batches.items())):
        for sample in samples:
            by_device[sample.device].append(sample)
    return by_device


def _online(device: ResolvedDevice, samples: list[Sample]) -> tuple[bool, str]:
    results = {s.probe: s.ok for s in samples}
    value = parse_rule(device.online).evaluate(results)
    errors = [f"{s.probe}: {s.error}" for s in samples if not s.ok and s.error]
    return value is True, "; ".join(errors) or "no answer"


def judge_venue(venue: Venue, samples: dict[str, list[Sample]], meeting: Meeting | None = None) -> VenueResult:
    """Ready or not, and why, from fresh samples of the venue's devices."""
    max_loss = meeting.max_loss_percent if meeting else 0.0
    max_rtt = meeting.max_rtt_ms if meeting else None
    result = VenueResult(venue.id, venue.name, ready=True)
    terminal_samples = samples.get(venue.terminal.id, [])
    online, why = _online(venue.terminal, terminal_samples)
    result.devices[venue.terminal.id] = online
    if not online:
        result.ready = False
        result.why.append(f"{venue.terminal.label} offline ({why})")
    losses = [s.metrics["loss_percent"] for s in terminal_samples if "loss_percent" in s.metrics]
    rtts = [s.metrics["rtt_seconds"] * 1000 for s in terminal_samples if s.ok and "rtt_seconds" in s.metrics]
    if losses:
        result.loss_percent = max(losses)
        if online and result.loss_percent > max_loss:
            result.ready = False
            result.why.append(f"loss {result.loss_percent:.0f}% > {max_loss:g}%")
    if rtts:
        result.rtt_ms = min(rtts)
        if max_rtt is not None and result.rtt_ms > max_rtt:
            result.ready = False
            result.why.append(f"RTT {result.rtt_ms:.0f} ms > {max_rtt:g} ms")
    for device in venue.related:
        device_online, device_why = _online(device, samples.get(device.id, []))
        result.devices[device.id] = device_online
        if not device_online:
            result.ready = False
            result.why.append(f"{device.kind} {device.label} offline ({device_why})")
    return result


async def check_venues(inventory: Inventory, venues: Sequence[Venue], meeting: Meeting | None = None) -> list[VenueResult]:
    """Probe every venue's devices now (shared devices such as an MCU once) and judge each venue."""
    devices = {v.terminal.id: v.terminal for v in venues}
    for venue in venues:
        devices.update({d.id: d for d in venue.related})
    samples = await probe_devices(inventory, list(devices.values()))
    return [judge_venue(venue, samples, meeting) for venue in venues]


TEXT = {
    "zh": {
        "headers": ["会场", "名称", "状态", "原因", "时延", "丢包"],
        "ready": "就绪",
        "not_ready": "未就绪",
        "summary": "{ready}/{total} 个会场就绪",
    },
    "en": {
        "headers": ["venue", "name", "status", "why", "RTT", "loss"],
        "ready": "ready",
        "not_ready": "NOT READY",
        "summary": "{ready}/{total} venues ready",
    },
}


def render_table(results: Sequence[VenueResult], language: str = "zh") -> str:
    from agent.status import format_table

    text = TEXT.get(language, TEXT["zh"])
    rows = [
        [
            r.venue,
            r.name,
            text["ready"] if r.ready else text["not_ready"],
            "; ".join(r.why)[:100],
            "-" if r.rtt_ms is None else f"{r.rtt_ms:.1f} ms",
            "-" if r.loss_percent is None else f"{r.loss_percent:.0f}%",
        ]
        for r in results
    ]
    summary = text["summary"].format(ready=sum(r.ready for r in results), total=len(results))
    return format_table(text["headers"], rows) + "\n\n" + summary


def meeting_moment(meeting: Meeting, timezone: str) -> float:
    """The meeting's start as epoch seconds (a time without offset is in the agent's zone)."""
    start = meeting.at if meeting.at.tzinfo else meeting.at.replace(tzinfo=ZoneInfo(timezone))
    return start.timestamp()


def meeting_id(meeting: Meeting, timezone: str) -> str:
    start = datetime.fromtimestamp(meeting_moment(meeting, timezone), ZoneInfo(timezone))
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in (meeting.name or "meeting"))
    return f"{name}-{start.strftime('%Y%m%dT%H%M')}"


def check_uid(meeting: Meeting, timezone: str) -> str:
    """The ledger uid of a meeting's readiness check (one per meeting and start time)."""
    return f"record:meeting_check:{meeting_id(meeting, timezone)}"


def meeting_record(
    inventory: Inventory, meeting: Meeting, venues: Sequence[Venue], results: Sequence[VenueResult], checked_at: float
) -> tuple[str, dict[str, Any]]:
    """The ledger record (uid, body) of a readiness check."""

    timezone = inventory.agent.timezone
    unit = meeting.unit
    system = meeting.system
    if unit is None:
        terminal = venues[0].terminal if venues else None
        unit = terminal.unit if terminal else None
        system = system or (terminal.system if terminal else None)
        if unit is None and system and system in inventory.systems:
            unit = inventory.systems[system].unit
    record_id = meeting_id(meeting, timezone)
    body = {
        "type": "record",
        "kind": "meeting_check",
        "id": record_id,
        "unit": unit,
        "system": system,
        "at": to_iso(int(checked_at), timezone),
        "meeting": meeting.name,
        "meeting_at": to_iso(int(meeting_moment(meeting, timezone)), timezone),
        "ready": all(r.ready for r in results),
        "ready_count": sum(r.ready for r in results),
        "venue_count": len(results),
        "venues": [r.to_dict() for r in results],
    }
    return check_uid(meeting, timezone), body


JOB_PREFIX = "meeting:"


class MeetingScheduler:
    """Checks every configured meeting's venues ``check_before_minutes`` ahead; files the result.

    Each meeting not begun and not checked yet is a one-off job of the agent's scheduler at its
    check time (at once when the agent starts inside that lead time). A check the agent notices
    late (the machine slept) still runs while the meeting has not begun."""

    def __init__(self) -> None:
        self.agent: Agent | None = None
        self.done: set[str] = set()  # uids of the checks filed (the ledger's, and this run's)

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        if not agent.inventory.config.meetings:
            return
        known = await agent.in_writer(lambda: {uid for uid, *_ in agent.db.events(["record"])})
        self.done |= {uid for uid in known if uid.startswith("record:meeting_check:")}
        self.register(time.time())

    def pending(self, now: float) -> list[tuple[float, Meeting]]:
        """(check time, meeting) of meetings not started yet and not checked yet, soonest first."""
        assert self.agent is not None
        timezone = self.agent.inventory.agent.timezone
        found = []
        for meeting in self.agent.inventory.config.meetings:
            if meeting_moment(meeting, timezone) > now and check_uid(meeting, timezone) not in self.done:
                found.append((meeting_moment(meeting, timezone) - meeting.check_before_minutes * 60, meeting))
        return sorted(found, key=lambda item: item[0])

    def register(self, now: float) -> None:
        """(Re)register one job per pending meeting, at its check time or at once when that passed."""
        agent = self.agent
        assert agent is not None
        agent.remove_jobs(JOB_PREFIX)
        zone = ZoneInfo(agent.inventory.agent.timezone)
        for check_at, meeting in self.pending(now):
            job_id = JOB_PREFIX + meeting_id(meeting, agent.inventory.agent.timezone)
            run_date = datetime.fromtimestamp(max(check_at, now), zone)
            agent.add_job(self.check, "date", job_id, meeting, run_date=run_date, misfire_grace_time=None)

    async def check(self, meeting: Meeting) -> None:
        """The job: check the meeting's venues now and file the record (once, before it begins)."""
        agent = self.agent
        assert agent is not None
        now = time.time()
        timezone = agent.inventory.agent.timezone
        uid = check_uid(meeting, timezone)
        if uid in self.done or meeting_moment(meeting, timezone) <= now:
            return
        self.done.add(uid)
        try:
            venues = resolve_venues(agent.inventory, meeting.venues, source=f"meeting {meeting.name or meeting.at}")
            results = await check_venues(agent.inventory, venues, meeting)
        except InputError as exc:
            log.error("meeting %s cannot be checked: %s", meeting.name or meeting.at, exc)
            return
        except Exception:
            log.exception("meeting readiness check failed")
            return
        uid, body = meeting_record(agent.inventory, meeting, venues, results, time.time())
        if body["unit"] is None:
            log.warning("meeting %s: readiness not filed in the ledger (no unit: set unit: on the meeting)", meeting.name)
        else:
            await agent.in_writer(agent.db.put_event, uid, "record", now, body, agent.agent_id)
        log.info(
            "meeting %s at %s: %d/%d venues ready", meeting.name or "-", body["meeting_at"], body["ready_count"], body["venue_count"]
        )

    async def on_round(self, result: RoundResult) -> None:
        pass

    async def on_reload(self, inventory: Inventory) -> None:
        """Re-plan the meetings of the new config (the agent's inventory is already the new one)."""
        if self.agent is not None:
            self.register(time.time())

    async def stop(self) -> None:
        """Nothing of its own: the agent's scheduler stops the jobs."""
