"""Inspection schedules (China working days), their trigger and jobs on the agent's scheduler, ``yunwei inspect``."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.inspections import InspectionScheduler, InspectionTrigger, inspection_plans
from agent.runtime import Agent
from cli.main import main
from core.errors import InputError
from inventory.schedule import parse_when
from store.db import open_store

ZONE = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


@pytest.mark.parametrize(
    ("phrase", "after", "expected"),
    [
        ("workdays 08:30", "2026-09-30 08:31", "2026-10-08 08:30"),  # the National Day week is skipped
        ("workdays 08:30", "2026-10-09 08:31", "2026-10-10 08:30"),  # an adjusted working Saturday (调休)
        ("workdays 08:30", "2026-10-10 08:29", "2026-10-10 08:30"),
        ("daily 23:59", "2026-12-31 23:59", "2027-01-01 23:59"),
        ("weekly mon 09:00", "2026-10-09 10:00", "2026-10-12 09:00"),
        ("monthly 31 09:00", "2026-11-01 00:00", "2026-11-30 09:00"),  # a shorter month: its last day
        ("monthly last 17:00", "2027-02-10 12:00", "2027-02-28 17:00"),
        ("monthly 1 9:05", "2026-11-01 09:05", "2026-12-01 09:05"),
    ],
)
def test_schedule_phrases(phrase: str, after: str, expected: str) -> None:
    assert parse_when(phrase).next_after(at(after)) == at(expected)


def test_years_the_calendar_does_not_know_fall_back_to_monday_to_friday(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="yunwei.schedule"):
        assert parse_when("workdays 08:30").next_after(at("2030-01-04 09:00")) == at("2030-01-07 08:30")  # Fri → Mon
    assert "chinesecalendar has no official calendar for 2030" in caplog.text


@pytest.mark.parametrize(
    ("phrase", "message"),
    [
        ("every day at 8", "is not understood"),
        ("weekly 09:00", "weekly needs a day"),
        ("monthly 32 09:00", "day of the month"),
        ("daily 25:00", "is not a time of day"),
        ("workdays mon 08:30", "takes only a time"),
    ],
)
def test_bad_schedule_phrases(phrase: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_when(phrase)


def server_inventory(make_inventory, sshd, schedule: str = "workdays 08:30"):  # type: ignore[no-untyped-def]
    return make_inventory(
        {
            "units": [{"id": "ybj", "name": "省医保局"}],
            "systems": [{"id": "vc", "name": "视频会议系统", "unit": "ybj"}],
            "groups": [{"id": "vc-servers", "unit": "ybj", "system": "vc", "kind": "server"}],
            "devices": [
                {
                    "id": "mcu-host",
                    "name": "MCU 管理服务器",
                    "group": "vc-servers",
                    "address": "127.0.0.1",
                    "probes": {
                        "tcp": {"port": sshd.port},
                        "ssh": {
                            "device_type": "linux",
                            "port": sshd.port,
                            "username": "root",
                            "key_file": str(sshd.client_key),
                            "known_hosts": str(sshd.known_hosts),
                            "commands": ["uptime", "cat /proc/meminfo"],
                            "schedule": [schedule],
                            "timeout": 10,
                        },
                    },
                }
            ],
        }
    )


def fire_times(trigger: InspectionTrigger, start: datetime, count: int) -> list[str]:
    """The trigger's first ``count`` fire times from ``start``, as APScheduler walks them."""
    times: list[str] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and len(times) < count:
        times.append(fire.astimezone(ZONE).strftime("%Y-%m-%d %a %H:%M"))
        fire = trigger.get_next_fire_time(fire, fire)
    return times


def test_the_trigger_fires_on_working_days_only() -> None:
    trigger = InspectionTrigger([parse_when("workdays 08:30")], "Asia/Shanghai")
    # Friday, then the adjusted working Saturday (调休), then Monday
    assert fire_times(trigger, at("2026-10-09 08:29:50"), 3) == ["2026-10-09 Fri 08:30", "2026-10-10 Sat 08:30", "2026-10-12 Mon 08:30"]
    # the National Day week is skipped; a start at the very time fires then
    assert fire_times(trigger, at("2026-09-30 08:30"), 2) == ["2026-09-30 Wed 08:30", "2026-10-08 Thu 08:30"]


def test_the_trigger_of_several_phrases_fires_at_each_once() -> None:
    trigger = InspectionTrigger([parse_when("workdays 08:30"), parse_when("weekly sun 10:00")], "Asia/Shanghai")
    assert fire_times(trigger, at("2026-10-09 09:00"), 4) == [
        "2026-10-10 Sat 08:30", "2026-10-11 Sun 10:00", "2026-10-12 Mon 08:30", "2026-10-13 Tue 08:30"
    ]
    # APScheduler hands the trigger times in the scheduler's zone: the agent's zone still decides
    utc = trigger.get_next_fire_time(None, at("2026-10-09 09:00").astimezone(ZoneInfo("UTC")))
    assert utc == at("2026-10-10 08:30")


async def wait_for_records(inventory, count: int, timeout: float = 30) -> list[dict]:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while True:
            with open_store(inventory.data_dir) as store:
                records = [body for _, _, _, _, body in store.events(["record"])]
            if len(records) >= count:
                return records
            await asyncio.sleep(0.1)


async def test_the_agent_runs_inspections_as_scheduler_jobs_and_files_records(make_inventory, sshd) -> None:  # type: ignore[no-untyped-def]
    # "daily 00:00" was due earlier today (unless this runs at midnight sharp) and never ran here
    inventory = server_inventory(make_inventory, sshd, schedule="daily 00:00")
    scheduler = InspectionScheduler()
    agent = Agent(inventory, attach_hooks=False, components=[scheduler])
    await agent.start(schedule=False)
    try:
        assert agent.scheduler is not None
        job = agent.scheduler.get_job("inspections:daily 00:00")
        assert isinstance(job.trigger, InspectionTrigger) and str(job.trigger) == "daily 00:00"
        assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, None)
        assert job.next_run_time == datetime.combine(datetime.now(ZONE).date() + timedelta(days=1), time(0), ZONE)
        [caught_up] = await wait_for_records(inventory, 1)  # the catch-up job ran at once
        assert agent.scheduler.get_job("inspections:catch-up") is None  # a one-off job
        job.modify(next_run_time=datetime.now(ZONE))  # fire the daily job now, as at midnight
        records = await wait_for_records(inventory, 2)
    finally:
        await agent.drain(5)
    assert caught_up["trigger"] == "catch-up"
    record = next(r for r in records if r["trigger"] == "schedule")
    assert record["kind"] == "inspection" and record["unit"] == "ybj" and record["system"] == "vc"
    assert record["device"] == "mcu-host" and record["result"] == "ok"
    assert Path(record["evidence"]).read_text().count("=====") == 4
    assert record["figures"]["memory_percent"] > 0 and record["at"].endswith("+08:00")
    from compliance.events import derived_uid, parse_event

    parsed = parse_event(record)  # the compliance calculator reads it as an inspection of unit ybj
    assert (parsed.kind, parsed.unit, parsed.device) == ("inspection", "ybj", "mcu-host")
    assert derived_uid("record", record) == f"record:inspection:{record['id']}"


def test_inspect_command_files_a_record_and_prints_the_table(make_inventory, sshd, capsys) -> None:  # type: ignore[no-untyped-def]
    inventory = server_inventory(make_inventory, sshd)
    config = Path(inventory.source)
    import yaml

    config.write_text(yaml.safe_dump(
        {**inventory.config.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
         "devices": [_device_dict(inventory)]}, allow_unicode=True))
    code = main(["inspect", "-c", str(config), "vc-servers"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "mcu-host" in out and "正常" in out and "已记录 1 条巡检记录" in out
    with open_store(inventory.data_dir) as store:
        [(uid, type_, _, agent, body)] = list(store.events(["record"]))
    assert uid == f"record:inspection:{body['id']}" and body["trigger"] == "on demand"


def test_inspect_command_errors(make_inventory, sshd, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inventory = server_inventory(make_inventory, sshd)
    config = Path(inventory.source)
    import yaml

    device = _device_dict(inventory)
    device["probes"]["ssh"]["known_hosts"] = str(tmp_path / "nothing_known")
    config.write_text(yaml.safe_dump(
        {**inventory.config.model_dump(mode="json", exclude_none=True, exclude_defaults=True), "devices": [device]},
        allow_unicode=True))
    assert main(["inspect", "-c", str(config), "no-such-device"]) == 2
    assert "DEVICE|GROUP: unknown device or group 'no-such-device'" in capsys.readouterr().err
    assert main(["inspect", "-c", str(config), "mcu-host"]) == 1
    out = capsys.readouterr().out
    assert "未完成" in out and "unknown host key" in out and "已记录 0 条巡检记录" in out
    with open_store(inventory.data_dir) as store:
        assert list(store.events(["record"])) == []  # a failed inspection is not a record


def _device_dict(inventory) -> dict:  # type: ignore[no-untyped-def]
    device = inventory.config.devices[0].model_dump(mode="json", exclude_none=True)
    ssh = device["probes"]["ssh"]
    ssh.pop("password", None)
    return device


async def test_scheduler_follows_a_reload(make_inventory, sshd) -> None:  # type: ignore[no-untyped-def]
    without = make_inventory({"devices": [{"id": "h", "address": "127.0.0.1", "probes": {"tcp": {"port": sshd.port}}}]})
    scheduler = InspectionScheduler()
    agent = Agent(without, attach_hooks=False, components=[scheduler])
    await agent.start(schedule=False)
    try:
        assert agent.scheduler is not None
        assert scheduler.plans == [] and agent.scheduler.get_jobs() == []  # nothing to schedule, no job
        await agent.reload(server_inventory(make_inventory, sshd, schedule="weekly mon 09:00"))
        assert [[t.device.id for t in p.targets] for p in scheduler.plans] == [["mcu-host"]]
        [job] = agent.scheduler.get_jobs()
        assert job.id == "inspections:weekly mon 09:00"
        assert job.trigger.get_next_fire_time(None, at("2026-10-09 07:00")) == at("2026-10-12 09:00")
        await agent.reload(without)
        assert agent.scheduler.get_jobs() == []  # the schedule went with the config
    finally:
        await agent.drain(5)


def closed_inventory(make_inventory):  # type: ignore[no-untyped-def]
    return make_inventory(
        {
            "units": [{"id": "ybj", "name": "省医保局"}],
            "devices": [
                {
                    "id": "sw-1",
                    "unit": "ybj",
                    "address": "127.0.0.1",
                    "probes": {
                        "tcp": {"port": 9},
                        "ssh": {"device_type": "huawei", "username": "u", "password": "p", "port": 9,
                                "schedule": ["workdays 08:30", "weekly sun 10:00"]},
                    },
                }
            ],
        }
    )


@pytest.mark.parametrize(
    ("start", "tried_at", "caught_up"),
    [
        ("2026-10-09 09:10", None, True),  # Friday after 08:30, nothing tried
        ("2026-10-09 09:10", "2026-10-08 08:30:02", True),  # only yesterday's was tried
        ("2026-10-09 09:10", "2026-10-09 08:30:02", False),  # tried today (even a failure counts)
        ("2026-10-09 08:00", None, False),  # not due yet today
        ("2026-10-12 07:00", None, False),  # Friday's miss is not caught up on Monday
        ("2026-10-11 09:00", None, False),  # Sunday: no working day, weekly sun 10:00 not due yet
        ("2026-10-11 10:30", "2026-10-09 08:30:02", True),  # Sunday 10:00 weekly run missed
    ],
)
async def test_which_missed_inspections_are_caught_up(
    make_inventory, start: str, tried_at: str | None, caught_up: bool  # type: ignore[no-untyped-def]
) -> None:
    from core.model import Sample

    inventory = closed_inventory(make_inventory)
    agent = Agent(inventory, attach_hooks=False)
    try:
        if tried_at is not None:
            agent.db.write_samples([Sample(device="sw-1", probe="ssh", ok=False, ts=at(tried_at).timestamp(), error="x")])
        scheduler = InspectionScheduler()
        scheduler.agent = agent
        scheduler.plans = inspection_plans(inventory)
        missed = await scheduler.missed_today(at(start).timestamp())
    finally:
        agent.writer.shutdown()
        agent.db.close()
    assert [t.device.id for t in missed] == (["sw-1"] if caught_up else [])


def test_scheduled_devices_without_a_unit_are_refused_at_load(make_inventory) -> None:  # type: ignore[no-untyped-def]
    data = {
        "devices": [
            {"id": "sw-9", "address": "127.0.0.1",
             "probes": {"tcp": {"port": 9}, "ssh": {"device_type": "huawei", "username": "u", "password": "p",
                                                    "port": 9, "schedule": "workdays 08:30"}}},
        ]
    }
    with pytest.raises(InputError) as caught:
        make_inventory(data)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("devices.0.probes.ssh.schedule",
         "a scheduled inspection is filed under a unit: set unit on the device, its group or its system")
    ]


def test_the_password_from_the_secrets_file_is_never_written(sshd, tmp_path: Path, capsys, caplog) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    import yaml

    secret = "S3cret-Xq7-巡检"
    (tmp_path / "secrets.yaml").write_text(yaml.safe_dump({"mcu_pw": secret}, allow_unicode=True))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "agent": {"data_dir": "data", "secrets_file": str(tmp_path / "secrets.yaml")},
        "units": [{"id": "ybj", "name": "省医保局"}],
        "devices": [{
            "id": "mcu-host", "unit": "ybj", "address": "127.0.0.1",
            "probes": {"ssh": {
                "device_type": "linux", "port": sshd.port, "username": "root", "password": "${secret:mcu_pw}",
                "key_file": str(sshd.client_key), "known_hosts": str(sshd.known_hosts), "commands": ["uptime"],
            }},
        }],
    }, allow_unicode=True))
    with caplog.at_level(logging.DEBUG):
        assert main(["-v", "inspect", "-c", str(config), "mcu-host", "--json"]) == 0
    out, err = capsys.readouterr()
    [result] = json.loads(out)
    evidence = Path(result["record"]["evidence"])
    assert evidence.is_file() and evidence.is_relative_to(tmp_path / "data" / "evidence")
    written = [out, err, caplog.text, evidence.read_text()]
    with sqlite3.connect(tmp_path / "data" / "yunwei.db") as db:
        for table in ("samples", "latest", "ledger"):
            written += [repr(row) for row in db.execute(f"SELECT * FROM {table}")]  # noqa: S608 - fixed names
    assert all(secret not in text for text in written)
