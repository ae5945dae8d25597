"""Meeting readiness against real peers: kamailio terminals, a GStreamer camera, a silent SIP stack."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from apscheduler.triggers.date import DateTrigger
from peers import free_port

from agent.meetings import MeetingScheduler, Venue, check_venues, judge_venue, resolve_venues
from agent.runtime import Agent
from cli.main import main
from core.errors import InputError
from core.model import Sample
from store.db import open_store

ZONE = ZoneInfo("Asia/Shanghai")


def fleet(sip_port: int, rtsp_port: int, dead_sip_port: int, mcu_port: int, meetings: list[dict[str, Any]] | None = None) -> dict:
    def terminal(device_id: str, name: str, sip: int, **extra: Any) -> dict[str, Any]:
        return {
            "id": device_id,
            "name": name,
            "group": "venues",
            "address": "127.0.0.1",
            "probes": {"sip": {"port": sip, "timeout": 1}},
            **extra,
        }

    return {
        "units": [{"id": "ybj", "name": "省医保局"}],
        "systems": [{"id": "vc", "name": "视频会议系统", "unit": "ybj"}],
        "groups": [
            {"id": "venues", "name": "会场终端", "unit": "ybj", "system": "vc", "kind": "vc_terminal"},
            {"id": "core", "name": "MCU", "unit": "ybj", "system": "vc", "kind": "mcu"},
        ],
        "devices": [
            {"id": "mcu-1", "name": "省平台 MCU", "group": "core", "address": "127.0.0.1",
             "probes": {"h323": {"collector": "tcp", "port": mcu_port, "timeout": 1}}},
            terminal("vc-gy", "贵阳会场", sip_port, attrs={"camera": "cam-gy", "mcu": "mcu-1"}),
            terminal("vc-zy", "遵义会场", dead_sip_port, attrs={"mcu": "mcu-1"}),
            terminal("vc-as", "安顺会场", sip_port, attrs={"mcu": "mcu-1"}),
            {"id": "cam-gy", "name": "贵阳会场摄像机", "kind": "camera", "address": "127.0.0.1", "parent": "vc-gy",
             "probes": {"rtsp": {"port": rtsp_port, "path": "/stream", "timeout": 2}}},
            {"id": "cam-as", "name": "安顺会场摄像机", "kind": "camera", "address": "127.0.0.1", "parent": "vc-as",
             "probes": {"rtsp": {"port": rtsp_port, "path": "/stream", "username": "admin", "password": "wrong", "timeout": 2}}},
        ],
        "meetings": meetings or [],
    }


@pytest.fixture
async def peers(kamailio: int, gst_rtsp, sipp_uas):  # type: ignore[no-untyped-def]
    rtsp_port = gst_rtsp("digest", "admin", "Cam#2026")
    dead_sip = sipp_uas(drop=True)
    mcu = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    yield kamailio, rtsp_port, dead_sip, mcu.sockets[0].getsockname()[1]
    mcu.close()


async def test_readiness_of_every_venue(make_inventory, peers) -> None:  # type: ignore[no-untyped-def]
    inventory = make_inventory(fleet(*peers))
    venues = resolve_venues(inventory, ["venues"])
    assert [v.id for v in venues] == ["vc-gy", "vc-zy", "vc-as"]
    assert [d.id for d in venues[0].related] == ["cam-gy", "mcu-1"]  # attrs camera/mcu, then children
    results = {r.venue: r for r in await check_venues(inventory, venues)}
    assert results["vc-gy"].ready, results["vc-gy"].why
    assert results["vc-gy"].devices == {"vc-gy": True, "cam-gy": True, "mcu-1": True}
    assert results["vc-gy"].rtt_ms is not None and results["vc-gy"].rtt_ms < 100
    assert not results["vc-zy"].ready
    assert results["vc-zy"].why[0].startswith("遵义会场 offline (sip: no SIP answer within 1 s")
    assert not results["vc-as"].ready  # the terminal answers, its camera refuses the configured password
    assert results["vc-as"].why == ["camera 安顺会场摄像机 offline (rtsp: credentials wrong (camera refused user 'admin'))"]


def test_loss_and_rtt_limits() -> None:
    from inventory.models import ResolvedDevice
    from inventory.schedule import Meeting

    terminal = ResolvedDevice(
        id="vc-1", name="会场", kind="vc_terminal", address="10.0.0.1", unit=None, system=None, group=None,
        parent=None, role=None, online="any(icmp, sip)", tags={}, attrs={}, probes={},
    )
    samples = {"vc-1": [Sample("vc-1", "icmp", True, 0, metrics={"loss_percent": 20.0, "rtt_seconds": 0.180}),
                        Sample("vc-1", "sip", True, 0, metrics={"rtt_seconds": 0.150})]}
    strict = judge_venue(Venue("vc-1", "会场", terminal), samples, Meeting(at="2026-11-03T14:00:00", max_rtt_ms=100))
    assert not strict.ready
    assert strict.why == ["loss 20% > 0%", "RTT 150 ms > 100 ms"]
    lenient = judge_venue(Venue("vc-1", "会场", terminal), samples,
                          Meeting(at="2026-11-03T14:00:00", max_loss_percent=25, max_rtt_ms=200))
    assert lenient.ready and lenient.loss_percent == 20 and lenient.rtt_ms == pytest.approx(150)


def test_meeting_check_command(make_inventory, peers, capsys) -> None:  # type: ignore[no-untyped-def]
    inventory = make_inventory(fleet(*peers))
    config = Path(inventory.source)
    config.write_text(yaml.safe_dump({**fleet(*peers), "agent": {"data_dir": str(inventory.data_dir)}}, allow_unicode=True))
    assert main(["meeting", "check", "-c", str(config), "venues"]) == 1
    out = capsys.readouterr().out
    assert "贵阳会场" in out and "就绪" in out and "未就绪" in out and "1/3 个会场就绪" in out
    assert main(["meeting", "check", "-c", str(config), "--venues", "vc-gy"]) == 0
    assert "1/1 个会场就绪" in capsys.readouterr().out
    assert main(["meeting", "check", "-c", str(config), "--venues", "vc-gy,nowhere"]) == 2
    assert "venue: unknown device or group 'nowhere'" in capsys.readouterr().err


def test_unknown_venue_in_the_config_is_refused_at_load(make_inventory) -> None:
    data = fleet(5060, 554, 5061, 1720, meetings=[{"name": "周例会", "at": "2026-11-03 14:00", "venues": ["venues", "vc-xx"]}])
    with pytest.raises(InputError) as caught:
        make_inventory(data)
    assert "meetings.0.venues.1: venue 'vc-xx' is neither a device nor a group" in str(caught.value)


def test_which_meetings_are_due_for_a_check(make_inventory) -> None:  # type: ignore[no-untyped-def]
    meetings = [
        {"name": "周例会", "at": "2026-10-26 16:00:00+08:00", "venues": ["venues"]},
        {"name": "早会", "at": "2026-10-26 09:00:00+08:00", "venues": ["vc-gy"], "check_before_minutes": 10},
    ]
    inventory = make_inventory(fleet(5060, 554, 5061, 1720, meetings=meetings))
    scheduler = MeetingScheduler()
    scheduler.agent = Agent(inventory, attach_hooks=False)
    try:
        def pending(when: str) -> list[tuple[str, str]]:
            moment = datetime.fromisoformat(when).timestamp()
            return [(m.name, datetime.fromtimestamp(t, ZONE).strftime("%H:%M")) for t, m in scheduler.pending(moment)]

        assert pending("2026-10-26T08:00:00+08:00") == [("早会", "08:50"), ("周例会", "15:30")]  # soonest first
        assert pending("2026-10-26T09:00:00+08:00") == [("周例会", "15:30")]  # a meeting that began is not checked
        assert pending("2026-10-26T15:45:00+08:00") == [("周例会", "15:30")]  # inside the lead time: due at once
        scheduler.done.add("record:meeting_check:周例会-20261026T1600")
        assert pending("2026-10-26T15:45:00+08:00") == []  # filed already (this run or the ledger)
    finally:
        scheduler.agent.writer.shutdown()
        scheduler.agent.db.close()


async def test_the_check_is_a_job_at_its_lead_time_and_is_filed_once(make_inventory, peers) -> None:  # type: ignore[no-untyped-def]
    begins = datetime.now(ZONE).replace(microsecond=0) + timedelta(seconds=33)
    later = begins + timedelta(hours=2)
    meetings = [
        {"name": "全省医保视频会", "at": begins.isoformat(), "venues": ["venues"], "check_before_minutes": 0.5},
        {"name": "下午会", "at": later.isoformat(), "venues": ["vc-gy"]},
    ]
    inventory = make_inventory(fleet(*peers, meetings=meetings))
    agent = Agent(inventory, attach_hooks=False, components=[MeetingScheduler()])
    await agent.start(schedule=False)
    try:
        assert agent.scheduler is not None
        lead = agent.scheduler.get_job(f"meeting:下午会-{later.strftime('%Y%m%dT%H%M')}")
        assert isinstance(lead.trigger, DateTrigger) and lead.trigger.run_date == later - timedelta(minutes=30)
        assert (lead.max_instances, lead.coalesce, lead.misfire_grace_time) == (1, True, None)
        async with asyncio.timeout(20):  # the first check is due 3 s after the start
            while not list(agent.db.events(["record"])):
                await asyncio.sleep(0.1)
    finally:
        await agent.drain(5)
    with open_store(inventory.data_dir) as store:
        [(uid, _, at, _, body)] = list(store.events(["record"]))
    assert uid == f"record:meeting_check:全省医保视频会-{begins.strftime('%Y%m%dT%H%M')}"
    assert begins.timestamp() - 30 <= at < begins.timestamp() - 25  # fired at its time, not before
    assert body["kind"] == "meeting_check" and body["unit"] == "ybj" and body["system"] == "vc"
    assert body["meeting_at"] == begins.isoformat()
    assert body["ready"] is False and (body["ready_count"], body["venue_count"]) == (1, 3)
    assert [v["venue"] for v in body["venues"] if v["ready"]] == ["vc-gy"]
    from compliance.events import derived_uid, parse_event

    parse_event(body)  # a valid ledger line: exported, imported and posted like any record
    assert derived_uid("record", body) == uid

    # a restart before the meeting does not check (and post) it again: no job for it
    again = MeetingScheduler()
    agent = Agent(inventory, attach_hooks=False, components=[again])
    await agent.start(schedule=False)
    try:
        assert agent.scheduler is not None
        assert [job.id for job in agent.scheduler.get_jobs()] == [f"meeting:下午会-{later.strftime('%Y%m%dT%H%M')}"]
        await again.check(inventory.config.meetings[0])  # even fired by hand it is not filed twice
    finally:
        await agent.drain(5)
    with open_store(inventory.data_dir) as store:
        assert len(list(store.events(["record"]))) == 1
    assert free_port()  # loopback still usable after the peers


async def test_a_reload_replans_the_meeting_jobs(make_inventory) -> None:  # type: ignore[no-untyped-def]
    soon = datetime.now(ZONE).replace(microsecond=0) + timedelta(days=1)
    inventory = make_inventory(fleet(5060, 554, 5061, 1720))
    agent = Agent(inventory, attach_hooks=False, components=[MeetingScheduler()])
    await agent.start(schedule=False)
    try:
        assert agent.scheduler is not None and agent.scheduler.get_jobs() == []
        meeting = {"name": "周例会", "at": soon.isoformat(), "venues": ["vc-gy"], "check_before_minutes": 15}
        await agent.reload(make_inventory(fleet(5060, 554, 5061, 1720, meetings=[meeting])))
        [job] = agent.scheduler.get_jobs()
        assert job.id == f"meeting:周例会-{soon.strftime('%Y%m%dT%H%M')}"
        assert job.trigger.run_date == soon - timedelta(minutes=15)
        await agent.reload(inventory)
        assert agent.scheduler.get_jobs() == []  # the meeting went with the config
    finally:
        await agent.drain(5)
