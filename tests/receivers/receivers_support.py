"""Real peers for the receiver tests: net-snmp's snmptrap/snmpinform, util-linux's logger, and an
snmpd whose ``lo`` interface reports the oper status a test chooses (``override``)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from peers import Peer, free_port, need_binary, wait_for
from snmp.snmp_support import snmp_answers

COMMUNITY = "yw-trap"
V3 = {"user": "trapper", "auth_protocol": "SHA", "auth_key": "trap-auth-1", "priv_protocol": "AES", "priv_key": "trap-priv-1"}
V3_ENGINE = "0x8000000001020304"
ENV = {"MIBS": "", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def traps_config(port: int = 0, **extra: object) -> dict[str, object]:
    return {"listen": f"127.0.0.1:{port}", "communities": [COMMUNITY], "v3_users": [V3], **extra}


def snmptrap_argv(port: int, *varbinds: str, version: str = "2c", inform: bool = False, community: str = COMMUNITY,
                  auth_key: str = V3["auth_key"], priv_key: str = V3["priv_key"], source: str | None = None) -> list[str]:
    binary = need_binary("snmpinform" if inform else "snmptrap")
    argv = [binary]
    if source:
        argv.append(f"--clientaddr={source}")
    if version == "3":
        argv += ["-v3", "-u", V3["user"], "-l", "authPriv", "-a", "SHA", "-A", auth_key, "-x", "AES", "-X", priv_key]
        if not inform:
            argv += ["-e", V3_ENGINE]
    else:
        argv += [f"-v{version}", "-c", community]
    if inform:
        argv += ["-t", "1", "-r", "1"]
    return [*argv, f"127.0.0.1:{port}", *varbinds]


async def send(argv: list[str], persistent: Path) -> subprocess.CompletedProcess[str]:
    process = await asyncio.create_subprocess_exec(
        *argv, env={**ENV, "SNMP_PERSISTENT_DIR": str(persistent)}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 10)
    return subprocess.CompletedProcess(argv, process.returncode or 0, out.decode(), err.decode())


LINK_DOWN = ("", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.1", "i", "1", "1.3.6.1.2.1.2.2.1.8.1", "i", "2")
LINK_UP = ("", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.1.1", "i", "1", "1.3.6.1.2.1.2.2.1.8.1", "i", "1")


@dataclass
class Switch:
    port: int
    community: str
    lo_status: int


def start_switch(root: Path, lo_status: int) -> tuple[Switch, Peer]:
    """snmpd on loopback whose ifIndex 1 (lo) reports ifOperStatus ``lo_status`` (1 up, 2 down)."""
    binary = need_binary("snmpd", "/usr/sbin/snmpd")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port(socket.SOCK_DGRAM)
    (root / "snmpd.conf").write_text(
        f"agentAddress udp:127.0.0.1:{port}\nrocommunity yw-ro 127.0.0.1\n"
        f"override 1.3.6.1.2.1.2.2.1.8.1 integer {lo_status}\ndontLogTCPWrappersConnects yes\n"
    )
    peer = Peer(
        [binary, "-f", "-C", "-c", str(root / "snmpd.conf"), "-Lf", str(root / "snmpd.log"), "-p", str(root / "pid")],
        log=root / "stdout.log", env={"SNMP_PERSISTENT_DIR": str(root / "persist"), "MIBS": ""},
    )
    wait_for(lambda: peer.assert_running() or snmp_answers(port, "yw-ro"), 10, "snmpd")
    return Switch(port, "yw-ro", lo_status), peer


@pytest.fixture(scope="module")
def down_switch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Switch]:
    switch, peer = start_switch(tmp_path_factory.mktemp("switch-down"), 2)
    try:
        yield switch
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def up_switch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Switch]:
    switch, peer = start_switch(tmp_path_factory.mktemp("switch-up"), 1)
    try:
        yield switch
    finally:
        peer.stop()


def rss_kib(pid: int | None = None) -> int:
    for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


__all__ = ["down_switch", "up_switch", "free_port"]
