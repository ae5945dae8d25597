"""A silent device costs its own timeout and nothing more: 50 answering agents and 5 silent ones."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers import Peer, free_port, need_binary, wait_for
from snmp_support import snmp_answers

from cli.commands.probe import build_target
from collectors.snmp import SnmpCollector

ANSWERING = [f"127.0.10.{i}" for i in range(1, 51)]
SWALLOWING = [f"127.0.11.{i}" for i in range(1, 4)]  # a socket that reads and never answers
UNBOUND = ["127.0.12.1", "127.0.12.2"]  # nobody listens: the kernel answers port unreachable


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = need_binary("snmpd", "/usr/sbin/snmpd")
    root: Path = tmp_path_factory.mktemp("fleet")
    port = free_port(socket.SOCK_DGRAM)
    endpoints = ",".join(f"udp:{address}:{port}" for address in ANSWERING)
    (root / "snmpd.conf").write_text(
        f"agentAddress {endpoints}\nrocommunity fleet\ndontLogTCPWrappersConnects yes\n"
    )
    peer = Peer(
        [binary, "-f", "-C", "-c", str(root / "snmpd.conf"), "-Lf", str(root / "snmpd.log"), "-p", str(root / "pid")],
        log=root / "stdout.log",
        env={"SNMP_PERSISTENT_DIR": str(root / "persist"), "MIBS": ""},
    )
    sinks = []
    try:
        for address in SWALLOWING:
            sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sink.bind((address, port))
            sinks.append(sink)
        wait_for(lambda: peer.assert_running() or all(snmp_answers(port, "fleet", a) for a in ANSWERING[::7]), 10, "snmpd")
        yield port
    finally:
        peer.stop()
        for sink in sinks:
            sink.close()


async def test_silent_devices_cost_their_own_timeout_only(fleet: int) -> None:
    timeout, retries = 0.5, 1
    budget = timeout * (retries + 1)
    options = {"community": "fleet", "port": fleet, "timeout": timeout, "retries": retries, "interfaces": ["lo"]}
    targets = [build_target("snmp", address, options) for address in ANSWERING + SWALLOWING + UNBOUND]
    collector = SnmpCollector()
    try:
        started = time.monotonic()
        samples = await collector.collect(targets)
        elapsed = time.monotonic() - started
    finally:
        await collector.close()
    by_device = {s.device: s for s in samples}
    assert len(samples) == 55
    answered = [by_device[a] for a in ANSWERING]
    assert all(s.ok and s.metrics["if.lo.oper_up"] == 1 for s in answered), [s.error for s in answered if not s.ok]
    for address in SWALLOWING + UNBOUND:
        assert not by_device[address].ok
        assert by_device[address].error.startswith("no answer after 2 tries of 0.5 s")
    fastest = min(s.metrics["rtt_seconds"] for s in answered)
    # every silent device waited out its own budget at the same time as the others
    assert elapsed < fastest + budget + 0.4, elapsed
