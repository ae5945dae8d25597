"""The ``snmp`` collector against a real net-snmp snmpd on loopback: v1, v2c, v3 and wrong credentials."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from snmp_support import SYS_NAME, V3_USERS, Snmpd

from cli.commands.probe import build_target
from collectors.snmp import SnmpCollector
from core.model import Sample


async def probe(options: dict[str, Any], collector: SnmpCollector | None = None) -> Sample:
    own = collector is None
    collector = collector or SnmpCollector()
    try:
        [sample] = await collector.collect([build_target("snmp", "127.0.0.1", options)])
        return sample
    finally:
        if own:
            await collector.close()


def v3(account: str, port: int, **overrides: Any) -> dict[str, Any]:
    user = account
    auth, auth_key, priv, priv_key = V3_USERS[account]
    options: dict[str, Any] = {"version": "3", "user": user, "port": port, "timeout": 1, "retries": 1}
    options["auth_protocol"], options["auth_key"] = auth.replace("-", ""), auth_key
    if priv:
        options["priv_protocol"], options["priv_key"] = priv.replace("-", ""), priv_key
    options.update(overrides)
    return options


async def test_v2c_reads_the_system_group_and_walks_interfaces(snmpd: Snmpd) -> None:
    sample = await probe({"community": snmpd.community, "port": snmpd.port, "interfaces": ["lo"]})
    assert sample.ok, sample.error
    assert sample.error is None
    assert sample.info["sys_name"] == SYS_NAME
    assert sample.info["sys_descr"].startswith("Linux")
    assert sample.info["sys_object_id"].startswith("1.3.6.1.4.1.8072.")  # net-snmp's enterprise
    assert 0 < sample.metrics["uptime_seconds"] < 3600
    assert sample.metrics["rebooted"] == 0
    assert sample.metrics["if.lo.oper_up"] == 1 and sample.metrics["if.lo.admin_up"] == 1
    assert sample.info["if.lo.status"] == "up"
    assert sample.metrics["interfaces_down"] == 0
    assert 0 < sample.metrics["rtt_seconds"] < 1
    assert sample.info["snmp"] == "v2c"


async def test_second_round_gives_bit_rates_from_counter_deltas(snmpd: Snmpd) -> None:
    collector = SnmpCollector()
    options = {"community": snmpd.community, "port": snmpd.port, "interfaces": ["lo", 1]}
    try:
        first = await probe(options, collector)
        assert "if.lo.in_bps" not in first.metrics  # no baseline yet
        time.sleep(0.2)
        second = await probe(options, collector)
    finally:
        await collector.close()
    assert second.ok
    assert second.metrics["if.lo.in_bps"] >= 0 and second.metrics["if.lo.out_bps"] >= 0
    assert "if.lo.in_errors" in second.metrics
    # "lo" and index 1 are the same interface: listed once
    assert [k for k in second.metrics if k.endswith(".oper_up")] == ["if.lo.oper_up"]


async def test_unknown_interface_is_reported_and_the_rest_still_read(snmpd: Snmpd) -> None:
    sample = await probe({"community": snmpd.community, "port": snmpd.port, "interfaces": ["lo", "GigabitEthernet9/9"]})
    assert sample.ok
    assert "interface(s) not found: GigabitEthernet9/9" in sample.error
    assert "lo" in sample.info["problems"]  # names what the device does have
    assert sample.metrics["if.lo.oper_up"] == 1


async def test_user_defined_oids_gauge_with_scale_and_a_walked_column(snmpd: Snmpd) -> None:
    oids = [
        {"name": "uptime_hours", "oid": "1.3.6.1.2.1.1.3.0", "scale": 1 / 360000},
        {"name": "if_count", "oid": "1.3.6.1.2.1.2.1.0"},
        {"name": "max_if_index", "oid": "1.3.6.1.2.1.2.2.1.1", "walk": "max"},
    ]
    sample = await probe({"community": snmpd.community, "port": snmpd.port, "oids": oids})
    assert sample.ok, sample.error
    assert sample.metrics["uptime_hours"] == pytest.approx(sample.metrics["uptime_seconds"] / 3600, abs=0.01)
    assert sample.metrics["if_count"] >= 1
    assert sample.metrics["max_if_index"] >= 1


async def test_v1_uses_32_bit_counters(snmpd: Snmpd) -> None:
    options = {"version": "1", "community": snmpd.community, "port": snmpd.port, "interfaces": ["lo"]}
    sample = await probe(options)
    assert sample.ok, sample.error
    assert sample.error is None
    assert sample.info["snmp"] == "v1"
    assert sample.metrics["if.lo.oper_up"] == 1
    assert sample.metrics["if.lo.speed_bps"] == 10_000_000  # ifSpeed (bps) instead of ifHighSpeed (Mbps)


@pytest.mark.parametrize("engine", ["native", "pysnmp"])
@pytest.mark.parametrize("user", ["ops", "ops256", "authonly", "sha1aes256", "sha512aes192"])
async def test_v3_auth_priv_and_auth_no_priv(snmpd: Snmpd, user: str, engine: str) -> None:
    sample = await probe({**v3(user, snmpd.port), "interfaces": ["lo"], "v3_engine": engine})
    assert sample.ok, sample.error
    assert sample.info["sys_name"] == SYS_NAME
    assert sample.metrics["if.lo.oper_up"] == 1
    assert sample.info["snmp"].startswith(f"v3 {user} auth")


@pytest.mark.parametrize("engine", ["native", "pysnmp"])
async def test_v3_md5_des_is_accepted_with_a_warning(snmpd: Snmpd, caplog: pytest.LogCaptureFixture, engine: str) -> None:
    with caplog.at_level(logging.WARNING, logger="yunwei.snmp"):
        sample = await probe(v3("oldgear", snmpd.port, v3_engine=engine))
    assert sample.ok, sample.error
    assert any("weak SNMPv3" in r.getMessage() and "MD5/DES" in r.getMessage() for r in caplog.records)
    assert not any("priv-pass-3" in r.getMessage() or "auth-pass-3" in r.getMessage() for r in caplog.records)


async def test_wrong_community_is_an_auth_error_not_a_timeout(snmpd: Snmpd) -> None:
    started = time.monotonic()
    sample = await probe({"community": "not-the-community", "port": snmpd.port, "timeout": 0.5, "retries": 1})
    elapsed = time.monotonic() - started
    assert not sample.ok
    assert "ignores our v2c requests" in sample.error and "wrong community" in sample.error
    assert "timeout" not in sample.error.lower()
    assert "not-the-community" not in sample.error
    assert elapsed < 1.5  # its own two tries, nothing more


@pytest.mark.parametrize("engine", ["native", "pysnmp"])
async def test_wrong_v3_auth_key_is_reported_at_once(snmpd: Snmpd, engine: str) -> None:
    started = time.monotonic()
    sample = await probe(v3("ops", snmpd.port, auth_key="not-the-key", v3_engine=engine, timeout=5))
    assert not sample.ok
    assert "wrong auth key" in sample.error and "usmStatsWrongDigests" in sample.error
    assert time.monotonic() - started < 4.0  # the agent's report, not the 5 s timeout (a busy machine may be slow)


@pytest.mark.parametrize("engine", ["native", "pysnmp"])
async def test_wrong_v3_priv_key_is_named(snmpd: Snmpd, engine: str) -> None:
    sample = await probe(v3("ops", snmpd.port, priv_key="not-the-priv-key", timeout=0.5, v3_engine=engine))
    assert not sample.ok
    assert "wrong privacy key" in sample.error


@pytest.mark.parametrize("engine", ["native", "pysnmp"])
async def test_unknown_v3_user_is_named(snmpd: Snmpd, engine: str) -> None:
    sample = await probe(v3("ops", snmpd.port, user="intruder", v3_engine=engine))
    assert not sample.ok
    assert "'intruder' is unknown to the agent" in sample.error


async def test_nothing_listening_is_a_plain_timeout(snmpd: Snmpd) -> None:
    """Silence with no answer to discovery either is inconclusive, and the sentence says so."""
    from peers import free_port

    port = free_port(2)
    sample = await probe({"community": snmpd.community, "port": port, "timeout": 0.3, "retries": 1})
    assert not sample.ok
    assert sample.error.startswith("no answer after 2 tries of 0.3 s, nor to an SNMPv3 discovery probe:")
    assert "wrong community" in sample.error and "cannot be told apart" in sample.error
    # no retry, no room for the probe: the sentence does not pretend it looked
    once = await probe({"community": "not-the-community", "port": snmpd.port, "timeout": 0.3, "retries": 0})
    assert once.error.startswith("no answer after 1 try of 0.3 s: device down, SNMP not enabled, or wrong community")
    assert "with retries: 0 there is no time for the SNMPv3 discovery probe" in once.error


def test_probe_command_prints_the_device(snmpd: Snmpd, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    code = main(["probe", "snmp", "127.0.0.1", "--port", str(snmpd.port), "-c", snmpd.community, "--interfaces", "lo"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("127.0.0.1: UP")
    assert SYS_NAME in out and "if.lo.oper_up" in out
    assert snmpd.community not in out


async def test_v3_stale_engine_time_is_resynchronised(snmpd: Snmpd) -> None:
    """After an agent restart its engine boots/time change: its notInTimeWindow report re-syncs us."""
    collector = SnmpCollector()
    try:
        assert (await probe(v3("ops", snmpd.port), collector)).ok
        [state] = collector.client.engines.values()
        state.boots, state.engine_time = state.boots + 5, state.engine_time + 100_000  # as if it had rebooted
        again = await probe(v3("ops", snmpd.port), collector)
        assert again.ok, again.error
        assert collector.client.engines[("127.0.0.1", snmpd.port)].boots == state.boots - 5
    finally:
        await collector.close()


def test_probe_takes_host_port_and_prints_uptime_in_human_units(snmpd: Snmpd, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    code = main(["probe", "snmp", f"127.0.0.1:{snmpd.port}", "--community", snmpd.community])
    out = capsys.readouterr().out
    assert code == 0, out
    uptime = next(line for line in out.splitlines() if line.strip().startswith("uptime_seconds"))
    assert uptime.split(None, 1)[1].endswith(("秒", "分钟", "小时", "天")) and " ms" not in uptime
    assert " ms" in next(line for line in out.splitlines() if line.strip().startswith("rtt_seconds"))
