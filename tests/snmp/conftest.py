"""Real SNMP peers on loopback: net-snmp snmpd (v1/v2c/v3), snmpsim (tests/data/*.snmprec), NUT.

snmpsim runs from ``tests/.peers/snmpsim-venv`` (made by ``scripts/test.d/snmpsim.sh`` from
Debian's python3): as root it must drop to nobody:nogroup, so its data and cache directories
are copies that nobody can read and write.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from peers import Peer, free_port, need, need_binary, wait_for

from collectors._snmp import ber

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SNMPSIM = REPO / "tests" / ".peers" / "snmpsim-venv" / "bin" / "snmpsim-command-responder"

COMMUNITY = "yunwei-ro"
V3_USERS = {
    # user: (auth protocol, auth key, priv protocol, priv key)
    "ops": ("SHA", "auth-pass-1", "AES", "priv-pass-1"),
    "ops256": ("SHA-256", "auth-pass-2", "AES-256", "priv-pass-2"),
    "oldgear": ("MD5", "auth-pass-3", "DES", "priv-pass-3"),
    "authonly": ("SHA", "auth-pass-4", None, None),
}
SYS_NAME = "core-sw-test"


def snmp_answers(port: int, community: str, host: str = "127.0.0.1") -> bool:
    """One synchronous v2c GET of sysUpTime: is the agent serving yet?"""
    message = ber.encode_request(1, community.encode(), ber.GET, 1, [(1, 3, 6, 1, 2, 1, 1, 3, 0)])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        sock.sendto(message, (host, port))
        try:
            data, _ = sock.recvfrom(65535)
        except OSError:
            return False
    return ber.decode_response(data).request_id == 1


@dataclass
class Snmpd:
    port: int
    community: str
    peer: Peer


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    binary = need_binary("snmpd", "/usr/sbin/snmpd")
    root = tmp_path_factory.mktemp("snmpd")
    port = free_port(socket.SOCK_DGRAM)
    lines = [
        f"agentAddress udp:127.0.0.1:{port}",
        f"rocommunity {COMMUNITY} 127.0.0.1",
        f"sysName {SYS_NAME}",
        "sysLocation 机房 A",
        "dontLogTCPWrappersConnects yes",
    ]
    for user, (auth, auth_key, priv, priv_key) in V3_USERS.items():
        lines.append(f"createUser {user} {auth} {auth_key}" + (f" {priv} {priv_key}" if priv else ""))
        lines.append(f"rouser {user} {'priv' if priv else 'auth'}")
    (root / "snmpd.conf").write_text("\n".join(lines) + "\n")
    peer = Peer(
        [binary, "-f", "-C", "-c", str(root / "snmpd.conf"), "-Lf", str(root / "snmpd.log"), "-p", str(root / "pid")],
        log=root / "stdout.log",
        env={"SNMP_PERSISTENT_DIR": str(root / "persist"), "MIBS": ""},
    )
    try:
        wait_for(lambda: peer.assert_running() or snmp_answers(port, COMMUNITY), 10, "snmpd")
        yield Snmpd(port, COMMUNITY, peer)
    finally:
        peer.stop()


@dataclass
class Snmpsim:
    port: int
    peer: Peer


@pytest.fixture(scope="module")
def snmpsim() -> Iterator[Snmpsim]:
    need(SNMPSIM.exists(), f"{SNMPSIM} missing (scripts/test.d/snmpsim.sh makes it)")
    # not under pytest's tmp dir: that one is private to root, and snmpsim runs as nobody
    root = Path(tempfile.mkdtemp(prefix="yunwei-snmpsim-"))
    data, cache = root / "data", root / "cache"
    data.mkdir()
    cache.mkdir()
    for path in DATA.glob("*.snmprec"):
        shutil.copy(path, data / path.name)
    for path in (root, data, cache, *data.iterdir()):
        os.chmod(path, 0o777 if path.is_dir() else 0o644)
    port = free_port(socket.SOCK_DGRAM)
    argv = [
        str(SNMPSIM),
        f"--data-dir={data}",
        f"--cache-dir={cache}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
    ]
    if os.geteuid() == 0:
        argv += ["--process-user=nobody", "--process-group=nogroup"]
    peer = Peer(argv, log=root / "snmpsim.log")
    try:
        wait_for(lambda: peer.assert_running() or snmp_answers(port, "ups-online"), 30, "snmpsim")
        yield Snmpsim(port, peer)
    finally:
        peer.stop()
        shutil.rmtree(root, ignore_errors=True)
