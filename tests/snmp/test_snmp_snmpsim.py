"""The ``snmp`` collector against snmpsim agents (tests/data/switch-*.snmprec).

One switch is played over three rounds 60 s apart on an injected clock, one data file (=
community) per round: its 64-bit counters wrap, its uptime wraps at 497 days, then it reboots.
"""

from __future__ import annotations

from typing import Any

import pytest
from snmp_support import Clock, Snmpsim

from cli.commands.probe import build_target
from collectors.snmp import SnmpCollector
from core.model import Sample


def options(snmpsim: Snmpsim, community: str, **extra: Any) -> dict[str, Any]:
    return {"community": community, "port": snmpsim.port, "timeout": 2, "retries": 1, **extra}


async def round_of(collector: SnmpCollector, opts: dict[str, Any]) -> Sample:
    [sample] = await collector.collect([build_target("snmp", "127.0.0.1", opts)])
    return sample


async def test_counter_wrap_uptime_wrap_and_reboot_over_three_rounds(snmpsim: Snmpsim) -> None:
    clock = Clock()
    collector = SnmpCollector()
    collector.clock = clock
    interfaces = ["uplink-to-core", "GigabitEthernet0/0/2", 3]  # by alias, by name, by ifIndex
    # a user-defined counter: the uplink's ifHCOutOctets × 8, per second
    oids = [{"name": "uplink_out_bits", "oid": "1.3.6.1.2.1.31.1.1.1.10.1", "type": "counter", "scale": 8}]
    try:
        first = await round_of(collector, options(snmpsim, "switch-round1", interfaces=interfaces, oids=oids))
        clock.now += 60
        second = await round_of(collector, options(snmpsim, "switch-round2", interfaces=interfaces, oids=oids))
        clock.now += 60
        third = await round_of(collector, options(snmpsim, "switch-round3", interfaces=interfaces, oids=oids))
    finally:
        await collector.close()

    assert first.ok and first.error is None, first.error
    assert first.metrics["uptime_seconds"] == pytest.approx(42949670.0)
    assert "if.GigabitEthernet0/0/1.in_bps" not in first.metrics

    # Round 2: sysUpTime went from 2^32-296 to 5704 ticks in 60 s: the 497-day wrap, no reboot.
    assert second.metrics["rebooted"] == 0
    assert "reboot" not in second.info
    # ifHCInOctets went from 2^64-1000 to 74000: +75,000 bytes in 60 s = 10,000 bit/s.
    assert second.metrics["if.GigabitEthernet0/0/1.in_bps"] == pytest.approx(10_000)
    assert second.metrics["if.GigabitEthernet0/0/1.out_bps"] == pytest.approx(100_000)
    assert second.metrics["if.GigabitEthernet0/0/1.in_util_percent"] == pytest.approx(0.001)
    assert second.metrics["if.GigabitEthernet0/0/1.speed_bps"] == 1e9
    assert second.info["if.GigabitEthernet0/0/1.alias"] == "uplink-to-core"
    # Gi0/0/2 is admin up but oper down: an uplink port down
    assert second.metrics["if.GigabitEthernet0/0/2.oper_up"] == 0
    assert second.metrics["if.GigabitEthernet0/0/2.admin_up"] == 1
    assert second.metrics["interfaces_down"] == 1
    assert second.metrics["if.Vlanif100.oper_up"] == 1 and second.info["if.Vlanif100.alias"] == "management"
    assert "uplink_out_bits" not in first.metrics  # a counter needs two readings
    assert second.metrics["uplink_out_bits"] == pytest.approx(100_000)  # +750,000 bytes in 60 s

    # Round 3: uptime 30 s after 60 s: rebooted. Counters restarted: no rate this round, and
    # certainly not a wrap of 2^64 - 74,000 bytes.
    assert third.ok
    assert third.metrics["rebooted"] == 1
    assert "restarted about 30 s ago" in third.info["reboot"]
    assert "if.GigabitEthernet0/0/1.in_bps" not in third.metrics
    assert third.metrics["if.GigabitEthernet0/0/1.oper_up"] == 1
    assert "uplink_out_bits" not in third.metrics  # the user counter restarted with the device too


async def test_a_missed_round_averages_over_the_gap(snmpsim: Snmpsim) -> None:
    clock = Clock()
    collector = SnmpCollector()
    collector.clock = clock
    try:
        await round_of(collector, options(snmpsim, "switch-round1", interfaces=["GigabitEthernet0/0/1"]))
        clock.now += 30
        silent = await round_of(
            collector, options(snmpsim, "no-such-community", interfaces=["GigabitEthernet0/0/1"], timeout=0.2)
        )
        clock.now += 30
        later = await round_of(collector, options(snmpsim, "switch-round2", interfaces=["GigabitEthernet0/0/1"]))
    finally:
        await collector.close()
    assert not silent.ok
    # the failed round in the middle kept the baseline: 75,000 bytes over the 60 s since it
    assert later.metrics["rebooted"] == 0
    assert later.metrics["if.GigabitEthernet0/0/1.in_bps"] == pytest.approx(10_000)


async def test_wrong_type_and_truncated_table_are_reported_and_the_round_goes_on(snmpsim: Snmpsim) -> None:
    clock = Clock()
    collector = SnmpCollector()
    collector.clock = clock
    broken = options(
        snmpsim,
        "switch-broken",
        interfaces=["all"],
        oids=[{"name": "cpu_percent", "oid": "1.3.6.1.4.1.2011.6.3.4.1.2.0"}],
    )
    healthy = options(snmpsim, "switch-round1", interfaces=["GigabitEthernet0/0/1"])
    try:
        samples = await collector.collect(
            [build_target("snmp", "127.0.0.1", broken), build_target("snmp", "localhost", healthy)]
        )
    finally:
        await collector.close()
    by_device = {s.device: s for s in samples}
    sample = by_device["127.0.0.1"]
    assert sample.ok  # it answered: the device is alive
    problems = sample.info["problems"]
    assert "if.GigabitEthernet0/0/2 in octets: expected a Counter32/Counter64, got OCTET STRING" in problems
    assert "if.Vlanif100 out octets: noSuchInstance" in problems
    assert "if.Vlanif100 in_errors: noSuchInstance" in problems
    assert "cpu_percent: expected a number, got OCTET STRING 'high'" in problems
    assert sample.error == problems
    # everything else of the device is still there
    assert sample.metrics["if.GigabitEthernet0/0/1.oper_up"] == 1
    assert sample.metrics["if.Vlanif100.oper_up"] == 1
    assert sample.info["sys_name"] == "switch-broken"
    # and the other device of the round is unaffected
    assert by_device["localhost"].ok and by_device["localhost"].error is None
