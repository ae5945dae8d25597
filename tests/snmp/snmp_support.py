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
    "sha1aes256": ("SHA", "auth-pass-5", "AES-256", "priv-pass-5"),  # the AES key needs extending
    "sha512aes192": ("SHA-512", "auth-pass-6", "AES-192", "priv-pass-6"),
}
SYS_NAME = "core-sw-test"


class Clock:
    """An injected wall clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def example_threshold_metrics(kind: str) -> set[str]:
    """The metrics config.example.yaml's alerting thresholds watch on devices of ``kind``."""
    import yaml

    config = yaml.safe_load((REPO / "config.example.yaml").read_text(encoding="utf-8"))
    metrics = set()
    for rule in config["alerting"]["thresholds"]:
        kinds = rule.get("kinds")
        if kinds == kind or (isinstance(kinds, list) and kind in kinds):
            metrics.add(rule["metric"])
    return metrics


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


NUT_DEV_ONLINE = {
    "ups.status": "OL",
    "battery.charge": "100",
    "battery.runtime": "14400",
    "input.voltage": "220",
    "output.voltage": "220",
    "ups.load": "35",
    "ups.mfr": "Sim",
    "ups.model": "Hotline-6K",
}


@dataclass
class Nut:
    port: int
    ups: str
    dev: Path
    peers: list[Peer]

    def write(self, values: dict[str, str]) -> None:
        """Rewrite the .dev file (a new file, so the driver sees a new mtime)."""
        staging = self.dev.with_suffix(".tmp")
        staging.write_text("".join(f"{k}: {v}\n" for k, v in values.items()))
        os.chmod(staging, 0o644)
        os.replace(staging, self.dev)


@pytest.fixture(scope="module")
def nut() -> Iterator[Nut]:
    """upsd with the dummy-ups driver serving one UPS, ``hotline``, from a .dev file."""
    driver = need_binary("dummy-ups", "/lib/nut/dummy-ups")
    upsd = need_binary("nut-upsd", "/lib/nut/upsd")  # /sbin/upsd is a wrapper that wants nut.conf
    root = Path(tempfile.mkdtemp(prefix="yunwei-nut-"))  # the nut user must reach it
    os.chmod(root, 0o777)
    port = free_port()
    (root / "ups.conf").write_text('[hotline]\n  driver = dummy-ups\n  port = hotline.dev\n  pollinterval = 1\n  desc = "12345 hotline"\n')
    (root / "upsd.conf").write_text(f"LISTEN 127.0.0.1 {port}\n")
    (root / "upsd.users").write_text("")
    state = Nut(port, "hotline", root / "hotline.dev", [])
    state.write(NUT_DEV_ONLINE)
    for path in root.iterdir():
        os.chmod(path, 0o644)
    env = {"NUT_CONFPATH": str(root), "NUT_STATEPATH": str(root)}
    user = ["-u", "nut"] if os.geteuid() == 0 else []
    try:
        state.peers.append(Peer([driver, "-a", "hotline", "-F", *user], log=root / "driver.log", env=env))
        wait_for(lambda: state.peers[0].assert_running() or (root / "dummy-ups-hotline").exists(), 10, "dummy-ups")
        state.peers.append(Peer([upsd, "-F", *user], log=root / "upsd.log", env=env))
        wait_for(lambda: state.peers[1].assert_running() or _nut_status(port) == "OL", 15, "upsd")
        yield state
    finally:
        for peer in reversed(state.peers):
            peer.stop()
        shutil.rmtree(root, ignore_errors=True)


def _nut_status(port: int) -> str | None:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"GET VAR hotline ups.status\n")
        reply = sock.recv(4096).decode()
    if reply.startswith("VAR hotline ups.status "):
        return reply.split(" ", 3)[3].strip().strip('"')
    return None


def wait_nut_status(nut: Nut, status: str, timeout: float = 10.0) -> None:
    """Bounded wait until upsd serves the status just written to the .dev file."""
    wait_for(lambda: _nut_status(nut.port) == status, timeout, f"upsd status {status!r}")
