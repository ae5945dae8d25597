"""The ``ups`` collector: UPS-MIB agents in each state (snmpsim) and NUT upsd with dummy-ups."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from snmp_support import NUT_DEV_ONLINE, Clock, Nut, Snmpsim, example_threshold_metrics, wait_nut_status

from cli.commands.probe import build_target
from collectors.base import CollectorContext, Target
from collectors.ups import UpsCollector
from core.model import Sample
from core.timefmt import to_iso
from inventory.models import ResolvedDevice

T0 = 1_790_000_000.0  # 2026-09-21T22:13:20+08:00


def ups_target(options: dict[str, Any], attrs: dict[str, Any] | None = None) -> Target:
    target = build_target("ups", "127.0.0.1", options, kind="ups")
    if attrs is None:
        return target
    device = ResolvedDevice(**{**target.device.model_dump(), "attrs": attrs})
    return Target(device=device, probe=target.probe)


async def snmp_round(snmpsim: Snmpsim, community: str, attrs: dict[str, Any] | None = None) -> Sample:
    collector = UpsCollector()
    collector.clock = Clock(T0)
    try:
        [sample] = await collector.collect([ups_target({"community": community, "port": snmpsim.port}, attrs)])
    finally:
        await collector.close()
    assert sample.ok, sample.error
    return sample


HOTLINE = {"required_runtime_hours": 3}  # the 12345 hotline UPS must carry its load 3 h


async def test_snmp_online_ups(snmpsim: Snmpsim) -> None:
    sample = await snmp_round(snmpsim, "ups-online", HOTLINE)
    assert sample.info["state"] == "online"
    m = sample.metrics
    assert (m["on_battery"], m["low_battery"], m["runtime_below_required"], m["overload"]) == (0, 0, 0, 0)
    assert m["runtime_seconds"] == 240 * 60 and m["charge_percent"] == 100
    assert m["required_runtime_seconds"] == 3 * 3600
    assert m["input_voltage"] == 220 and m["load_percent"] == 35 and m["battery_temperature_c"] == 27
    assert sample.info["model"] == "Sim Power SIM-3000VA"
    assert sample.error is None


async def test_snmp_on_battery_is_dated_from_the_ups_own_count(snmpsim: Snmpsim) -> None:
    sample = await snmp_round(snmpsim, "ups-on-battery", HOTLINE)
    assert sample.info["state"] == "on_battery"
    assert sample.metrics["on_battery"] == 1 and sample.metrics["low_battery"] == 0
    # upsSecondsOnBattery = 125: mains failed 125 s before this round
    assert sample.metrics["on_battery_since"] == T0 - 125
    assert sample.info["on_battery_since"] == to_iso(T0 - 125, "Asia/Shanghai")
    assert sample.metrics["runtime_below_required"] == 0  # 200 min >= 180 min
    assert sample.info["alarms"] == "on_battery"
    assert sample.metrics["input_voltage"] == 0
    watched = example_threshold_metrics("ups")  # the example's alerting rules name real metrics
    assert watched and watched <= set(sample.metrics)


async def test_snmp_low_battery(snmpsim: Snmpsim) -> None:
    sample = await snmp_round(snmpsim, "ups-low-battery", HOTLINE)
    assert sample.info["state"] == "low_battery"
    assert sample.metrics["low_battery"] == 1 and sample.metrics["on_battery"] == 1
    assert sample.metrics["charge_percent"] == 9
    assert sample.metrics["runtime_below_required"] == 1
    assert sample.info["alarms"] == "on_battery, low_battery"


async def test_snmp_runtime_below_required_on_mains(snmpsim: Snmpsim) -> None:
    sample = await snmp_round(snmpsim, "ups-runtime-short", HOTLINE)
    # on mains and fully charged, but 95 minutes cannot carry the hotline 3 hours: aged batteries
    assert sample.info["state"] == "runtime_below_required"
    assert sample.metrics["on_battery"] == 0
    assert sample.metrics["runtime_seconds"] == 95 * 60
    assert sample.metrics["runtime_below_required"] == 1
    without_requirement = await snmp_round(snmpsim, "ups-runtime-short")
    assert without_requirement.info["state"] == "online"
    assert "runtime_below_required" not in without_requirement.metrics


async def test_snmp_replace_battery_and_overload_from_alarms(snmpsim: Snmpsim) -> None:
    sample = await snmp_round(snmpsim, "ups-faults")
    assert sample.metrics["replace_battery"] == 1
    assert sample.metrics["overload"] == 1
    assert sample.metrics["load_percent"] == 112
    assert sample.info["alarms"] == "battery_bad, output_overload"
    assert sample.info["state"] == "overload"


async def test_bad_required_runtime_attr_is_reported(snmpsim: Snmpsim) -> None:
    sample = await snmp_round(snmpsim, "ups-online", {"required_runtime_hours": "three"})
    assert "attrs.required_runtime_hours must be a number of hours, not 'three'" in sample.error


async def test_a_switch_without_ups_mib_says_so(snmpsim: Snmpsim) -> None:
    sample = await snmp_round(snmpsim, "switch-round1")
    assert "the agent has no UPS-MIB" in sample.error


async def test_snmp_comms_lost_when_the_agent_is_silent(snmpsim: Snmpsim) -> None:
    collector = UpsCollector()
    collector.clock = Clock(T0)
    try:
        [sample] = await collector.collect([ups_target({"community": "nobody-home", "port": snmpsim.port, "timeout": 0.2})])
    finally:
        await collector.close()
    assert not sample.ok
    assert sample.metrics["comms_lost"] == 1
    assert sample.info["state"] == "comms_lost"


async def nut_round(collector: UpsCollector, nut: Nut) -> Sample:
    target = ups_target({"nut_ups": nut.ups, "nut_port": nut.port, "timeout": 2}, HOTLINE)
    [sample] = await collector.collect([target])
    assert sample.ok, sample.error
    return sample


async def test_nut_ol_ob_lb_ol_transitions_with_timestamps(nut: Nut) -> None:
    clock = Clock(T0)
    collector = UpsCollector(CollectorContext(timezone="Asia/Shanghai"))
    collector.clock = clock
    try:
        nut.write(NUT_DEV_ONLINE)
        wait_nut_status(nut, "OL")
        online = await nut_round(collector, nut)

        clock.now = T0 + 60  # mains fail
        nut.write({**NUT_DEV_ONLINE, "ups.status": "OB DISCHRG", "battery.charge": "80", "battery.runtime": "9000", "input.voltage": "0"})
        wait_nut_status(nut, "OB DISCHRG")
        on_battery = await nut_round(collector, nut)

        clock.now = T0 + 180  # battery runs low
        nut.write({**NUT_DEV_ONLINE, "ups.status": "OB LB", "battery.charge": "9", "battery.runtime": "300", "input.voltage": "0"})
        wait_nut_status(nut, "OB LB")
        low = await nut_round(collector, nut)

        clock.now = T0 + 240  # mains back
        nut.write({**NUT_DEV_ONLINE, "ups.status": "OL CHRG", "battery.charge": "12"})
        wait_nut_status(nut, "OL CHRG")
        back = await nut_round(collector, nut)
    finally:
        await collector.close()

    assert online.info["state"] == "online" and online.metrics["on_battery"] == 0
    assert online.info["model"] == "Sim Hotline-6K"

    assert on_battery.info["state"] == "on_battery"
    assert on_battery.metrics["on_battery"] == 1
    assert on_battery.metrics["on_battery_since"] == T0 + 60
    assert on_battery.info["on_battery_since"] == "2026-09-21T22:14:20+08:00"
    assert on_battery.info["state_since"] == "2026-09-21T22:14:20+08:00"
    assert on_battery.metrics["runtime_seconds"] == 9000
    assert on_battery.metrics["runtime_below_required"] == 1  # 2.5 h left < 3 h required

    assert low.info["state"] == "low_battery"
    assert low.metrics["low_battery"] == 1 and low.metrics["on_battery"] == 1
    assert low.metrics["on_battery_since"] == T0 + 60  # still the same outage
    assert low.metrics["on_battery_seconds"] == 120
    assert low.info["low_battery_since"] == "2026-09-21T22:16:20+08:00"
    assert low.metrics["charge_percent"] == 9

    assert back.info["state"] == "online"
    assert back.metrics["on_battery"] == 0 and back.metrics["low_battery"] == 0
    assert back.metrics["mains_restored_after_seconds"] == 180
    assert back.info["state_since"] == "2026-09-21T22:17:20+08:00"
    assert "on_battery_since" not in back.metrics

    states = [(s.info["state"], s.info["state_since"]) for s in (online, on_battery, low, back)]
    assert states == [
        ("online", "2026-09-21T22:13:20+08:00"),
        ("on_battery", "2026-09-21T22:14:20+08:00"),
        ("low_battery", "2026-09-21T22:16:20+08:00"),
        ("online", "2026-09-21T22:17:20+08:00"),
    ]


async def test_nut_replace_battery_and_overload_flags(nut: Nut) -> None:
    collector = UpsCollector()
    collector.clock = Clock(T0)
    try:
        nut.write({**NUT_DEV_ONLINE, "ups.status": "OL RB OVER", "ups.load": "118"})
        wait_nut_status(nut, "OL RB OVER")
        sample = await nut_round(collector, nut)
    finally:
        nut.write(NUT_DEV_ONLINE)
        await collector.close()
    assert sample.metrics["replace_battery"] == 1 and sample.metrics["overload"] == 1
    assert sample.metrics["load_percent"] == 118
    assert sample.info["ups_status"] == "OL RB OVER"


async def test_nut_unknown_ups_and_closed_port(nut: Nut) -> None:
    from peers import free_port

    collector = UpsCollector()
    try:
        unknown, closed = await collector.collect(
            [
                build_target("ups", "127.0.0.1", {"nut_ups": "no-such-ups", "nut_port": nut.port}),
                build_target("ups", "localhost", {"nut_ups": "hotline", "nut_port": free_port(), "timeout": 1}),
            ]
        )
    finally:
        await collector.close()
    assert not unknown.ok and "upsd does not know a UPS named 'no-such-ups'" in unknown.error
    assert not closed.ok and closed.error.startswith("connection refused")
    assert closed.metrics["comms_lost"] == 1


@pytest.mark.parametrize("bad", [{"source": "nut"}, {"nut_ups": "x", "required_runtime_hours": 0}])
def test_bad_options_are_refused(bad: dict[str, Any]) -> None:
    from core.errors import InputError

    with pytest.raises(InputError):
        build_target("ups", "127.0.0.1", bad)


async def test_nut_driver_gone_is_comms_lost(nut: Nut) -> None:
    """upsd still answers, but has lost the UPS: comms lost, not an online UPS."""
    from peers import Peer, wait_for

    driver = nut.peers[0]
    driver.stop()
    collector = UpsCollector()
    try:
        target = ups_target({"nut_ups": nut.ups, "nut_port": nut.port, "timeout": 2})
        for _ in range(50):  # upsd notices the driver's socket closing within a poll or two
            [sample] = await collector.collect([target])
            if not sample.ok:
                break
            await asyncio.sleep(0.1)
    finally:
        await collector.close()
        env = {"NUT_CONFPATH": str(nut.dev.parent), "NUT_STATEPATH": str(nut.dev.parent)}
        nut.peers[0] = Peer(driver.argv, log=driver.log_path.with_suffix(".2.log"), env=env)
        wait_for(lambda: (nut.dev.parent / "dummy-ups-hotline").exists(), 10, "dummy-ups")
        wait_nut_status(nut, NUT_DEV_ONLINE["ups.status"], 30)  # upsd back in touch: the next test may use it
    assert not sample.ok
    assert sample.error.startswith("comms lost")
    assert sample.metrics["comms_lost"] == 1 and sample.info["state"] == "comms_lost"


async def test_nut_on_battery_since_survives_an_agent_restart(nut: Nut, make_inventory: Any) -> None:
    """NUT does not date an outage: a restarted agent takes the start from the store, not its first round."""
    from agent.builtin import UpsMemory
    from agent.runtime import Agent, load_components
    from store.db import open_store

    probe = {"nut_ups": nut.ups, "nut_port": nut.port, "timeout": 2}
    inventory = make_inventory(
        {"devices": [{"id": "ups-hotline", "kind": "ups", "address": "127.0.0.1", "attrs": HOTLINE, "probes": {"icmp": None, "ups": probe}}]}
    )
    store = open_store(inventory.data_dir)

    async def one_round(now: float) -> Sample:
        agent = Agent(inventory, store, components=[UpsMemory()], attach_hooks=False)
        agent.collectors["ups"].clock = Clock(now)
        await agent.start(schedule=False)
        try:
            [result] = await agent.run_all_once()
        finally:
            await agent.drain()
        [sample] = result.samples
        assert sample.ok, sample.error
        return sample

    try:
        nut.write({**NUT_DEV_ONLINE, "ups.status": "OB DISCHRG", "input.voltage": "0"})
        wait_nut_status(nut, "OB DISCHRG")
        before = await one_round(T0)
        after_restart = await one_round(T0 + 600)  # a new agent process, same store
        nut.write(NUT_DEV_ONLINE)
        wait_nut_status(nut, "OL")
        back = await one_round(T0 + 660)
    finally:
        nut.write(NUT_DEV_ONLINE)
        store.close()

    assert before.metrics["on_battery_since"] == T0
    assert after_restart.metrics["on_battery_since"] == T0
    assert after_restart.metrics["on_battery_seconds"] == 600
    assert after_restart.info["state_since"] == to_iso(T0, "Asia/Shanghai")
    assert back.info["state"] == "online" and back.metrics["mains_restored_after_seconds"] == 660
    # the running agent attaches it
    agent = Agent(inventory, open_store(inventory.data_dir), attach_hooks=False)
    assert any(isinstance(c, UpsMemory) for c in load_components(agent))
    agent.db.close()


def test_probe_ups_command(nut: Nut, capsys: pytest.CaptureFixture[str]) -> None:
    """``yunwei probe ups``: 0 when the UPS answers, 1 when upsd is not there, 2 for a bad option."""
    from peers import free_port

    from cli.main import main

    nut.write(NUT_DEV_ONLINE)
    wait_nut_status(nut, "OL")
    code = main(["probe", "ups", "127.0.0.1", "--nut-ups", nut.ups, "--nut-port", str(nut.port), "--required-hours", "3"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("127.0.0.1: UP")
    assert "required_runtime_seconds" in out and "online" in out
    assert main(["probe", "ups", "127.0.0.1", "--nut-ups", nut.ups, "--nut-port", str(free_port()), "-t", "1"]) == 1
    assert "connection refused" in capsys.readouterr().out
    assert main(["probe", "ups", "127.0.0.1", "--required-hours", "0"]) == 2
    assert "required_runtime_hours" in capsys.readouterr().err
