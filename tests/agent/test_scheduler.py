"""One scheduler: rounds never overlapping (a slow round coalesced rather than stacked, every target
answered), and every timed job of a real agent on it with the trigger its config asks for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from time import time as time_now
from zoneinfo import ZoneInfo

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agent.inspections import InspectionTrigger
from agent.runtime import Agent
from collectors.base import Collector, Target
from collectors.registry import register
from core.model import Sample


@register
class SlowCollector(Collector):
    """A test collector whose rounds take longer than their interval."""

    name = "test_slow"
    in_flight = 0
    max_in_flight = 0
    rounds = 0
    delay = 1.3

    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        cls = type(self)
        cls.in_flight += 1
        cls.max_in_flight = max(cls.max_in_flight, cls.in_flight)
        try:
            await asyncio.sleep(cls.delay)
            cls.rounds += 1
            return [t.sample(True) for t in targets[1:]]  # drops one target: a collector bug
        finally:
            cls.in_flight -= 1


async def test_slow_rounds_do_not_overlap_or_stack(make_inventory) -> None:  # type: ignore[no-untyped-def]
    inventory = make_inventory(
        {
            "agent": {"jitter": 0},
            "devices": [
                {"id": f"d{i}", "address": "127.0.0.1", "probes": {"test_slow": {"interval": 0.4}}} for i in range(3)
            ],
        }
    )
    agent = Agent(inventory, attach_hooks=False)
    await agent.start()
    await asyncio.sleep(4.2)
    await agent.drain(5)
    assert SlowCollector.max_in_flight == 1
    # 4.2 s of 1.3 s rounds: about three rounds ran, not the ten the interval asked for
    assert 2 <= SlowCollector.rounds <= 4
    latest = {s.device: s for s in agent.db.latest_samples()}
    assert latest["d0"].ok is False and latest["d0"].error == "no result from collector"
    assert latest["d1"].ok and latest["d2"].ok


async def test_one_scheduler_runs_rounds_housekeeping_inspections_and_meeting_checks(make_inventory) -> None:  # type: ignore[no-untyped-def]
    zone = ZoneInfo("Asia/Shanghai")
    meeting_at = datetime.now(zone).replace(second=0, microsecond=0) + timedelta(days=2)
    ssh = {"device_type": "huawei", "username": "u", "password": "p", "port": 9, "schedule": ["workdays 08:30"]}
    inventory = make_inventory(
        {
            "agent": {"retention_days": 7},
            "units": [{"id": "ybj", "name": "省医保局"}],
            "devices": [
                {"id": "sw-1", "unit": "ybj", "address": "127.0.0.1", "probes": {"tcp": {"port": 9, "interval": 30}, "ssh": ssh}},
                {"id": "vc-1", "unit": "ybj", "kind": "vc_terminal", "address": "127.0.0.1", "probes": {"tcp": {"port": 9}}},
            ],
            "meetings": [{"name": "周例会", "at": meeting_at.isoformat(), "venues": ["vc-1"], "check_before_minutes": 45}],
        }
    )
    agent = Agent(inventory)  # with its own components, as `yunwei run` starts it
    await agent.start()
    try:
        assert agent.scheduler is not None
        jobs = {job.id: job for job in agent.scheduler.get_jobs()}
        assert {"round:tcp:30.0", "round:tcp:60.0", "housekeeping"} <= set(jobs)
        assert isinstance(jobs["round:tcp:30.0"].trigger, IntervalTrigger)
        assert jobs["round:tcp:30.0"].trigger.interval == timedelta(seconds=30)
        assert jobs["housekeeping"].trigger.interval == timedelta(minutes=10)
        inspection = jobs["inspections:workdays 08:30"]
        assert isinstance(inspection.trigger, InspectionTrigger) and inspection.trigger.timezone == "Asia/Shanghai"
        assert inspection.next_run_time.astimezone(zone).time() == time(8, 30)
        meeting = jobs[f"meeting:周例会-{meeting_at.strftime('%Y%m%dT%H%M')}"]
        assert isinstance(meeting.trigger, DateTrigger)
        assert meeting.next_run_time == meeting_at - timedelta(minutes=45)
        assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())

        # the housekeeping job, fired now, prunes raw samples older than retention_days
        old = time_now() - 8 * 86400
        await agent.in_writer(agent.db.write_samples, [Sample(device="vc-1", probe="tcp", ok=True, ts=old)])

        async def old_sample_kept() -> bool:
            return any(s.ts == old for s in await agent.in_writer(agent.db.samples_for, "vc-1", 0.0, "tcp"))

        assert await old_sample_kept()
        jobs["housekeeping"].modify(next_run_time=datetime.now(zone))
        async with asyncio.timeout(10):
            while await old_sample_kept():
                await asyncio.sleep(0.1)
    finally:
        await agent.drain(5)


async def test_a_component_job_never_overlaps_itself_and_a_skipped_run_is_logged(make_inventory, caplog) -> None:  # type: ignore[no-untyped-def]
    agent = Agent(make_inventory({"devices": []}), attach_hooks=False)
    await agent.start(schedule=False)
    running, most = [0], [0]

    async def slow() -> None:
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            await asyncio.sleep(0.7)
        finally:
            running[0] -= 1

    try:
        with caplog.at_level(logging.WARNING, logger="yunwei.agent"):
            agent.add_job(slow, "interval", "component:slow", seconds=0.2)
            await asyncio.sleep(1.5)
    finally:
        await agent.drain(5)
    assert most[0] == 1
    assert "job component:slow: its previous run is still going; this run is skipped" in caplog.text
    assert not agent.stats  # not a round: no round's skip is counted
