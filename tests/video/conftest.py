"""Peers of the video tests: a GStreamer RTSP server, kamailio, sipp, OpenSSH sshd."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from peers import Peer, free_port, need, need_binary, tcp_open, wait_for

HERE = Path(__file__).parent
SYSTEM_PYTHON = "/usr/bin/python3"


def _gst_available() -> bool:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    check = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"],
        capture_output=True,
    )
    return check.returncode == 0


@pytest.fixture(scope="session")
def gst_ok() -> bool:
    return _gst_available()


@pytest.fixture
def gst_rtsp(tmp_path: Path, gst_ok: bool) -> Iterator[Callable[..., int]]:
    """Start GStreamer RTSP servers: ``gst_rtsp(mode="none"|"basic"|"digest", user, password) -> port``."""
    need(gst_ok, "GStreamer RTSP server for python3-gi (gir1.2-gst-rtsp-server-1.0, python3-gi) is not installed")
    peers: list[Peer] = []

    def start(mode: str = "none", user: str = "admin", password: str = "Cam#2026") -> int:
        port = free_port()
        peer = Peer(
            [SYSTEM_PYTHON, str(HERE / "gst_rtsp_server.py"), str(port), mode, user, password],
            log=tmp_path / f"gst-{port}.log",
        )
        peers.append(peer)
        wait_for(lambda: peer.assert_running() or tcp_open("127.0.0.1", port), 10, "GStreamer RTSP server")
        return port

    yield start
    for peer in peers:
        peer.stop()


def free_udp_tcp_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both)."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
listen=udp:127.0.0.1:{port}
listen=tcp:127.0.0.1:{port}
mpath="{modules}"
loadmodule "sl.so"
request_route {{
    if (method=="OPTIONS") {{ sl_send_reply("200","OK"); exit; }}
    sl_send_reply("404","Not here");
}}
"""
KAMAILIO_MODULES = ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules")


@pytest.fixture
def kamailio(tmp_path: Path) -> Iterator[int]:
    """kamailio answering OPTIONS with 200 on UDP and TCP; yields the port."""
    binary = need_binary("kamailio", "/usr/sbin/kamailio")
    modules = next((m for m in KAMAILIO_MODULES if Path(m, "sl.so").exists()), None)
    need(modules, "kamailio's sl module is not installed")
    port = free_udp_tcp_port()
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text(KAMAILIO_CFG.format(port=port, modules=modules))
    rundir = tmp_path / "kamailio-run"
    rundir.mkdir()
    peer = Peer([binary, "-DD", "-E", "-f", str(cfg), "-P", str(rundir / "pid"), "-Y", str(rundir)], log=tmp_path / "kamailio.log")
    wait_for(lambda: peer.assert_running() or tcp_open("127.0.0.1", port), 10, "kamailio")
    yield port
    peer.stop()


@pytest.fixture
def sipp_uas(tmp_path: Path) -> Iterator[Callable[..., int]]:
    """Start sipp as a UAS: ``sipp_uas(delay_ms=0, status=200, drop=False, transport="udp") -> port``."""
    binary = need_binary("sipp", "/usr/bin/sipp")
    peers: list[Peer] = []

    def start(delay_ms: int = 0, status: int = 200, drop: bool = False, transport: str = "udp") -> int:
        port = free_udp_tcp_port()
        if drop:
            scenario = HERE / "sipp" / "options_drop.xml"
        else:
            scenario = tmp_path / f"options_uas_{port}.xml"
            template = (HERE / "sipp" / "options_uas.xml").read_text()
            scenario.write_text(template.replace("{delay}", str(delay_ms)).replace("{status}", str(status)))
        argv = [binary, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-nostdin", "-bind_local"]
        if transport == "tcp":
            argv += ["-t", "t1"]
        peer = Peer(argv, log=tmp_path / f"sipp-{port}.log", cwd=tmp_path)
        peers.append(peer)
        if transport == "tcp":
            wait_for(lambda: peer.assert_running() or tcp_open("127.0.0.1", port), 10, "sipp")
        else:
            wait_for(lambda: peer.assert_running() or _udp_bound(port), 10, "sipp")
        return port

    yield start
    for peer in peers:
        peer.stop()


def _udp_bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        try:
            udp.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@dataclass
class SshServer:
    port: int
    host_key_line: str  # "[127.0.0.1]:PORT ssh-ed25519 AAAA..."
    client_key: Path  # private key authorised for root
    other_key: Path  # a private key that is not authorised
    known_hosts: Path  # a known_hosts file holding the server's key
    peer: Peer


SSHD_CONFIG = """Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {pid}
AuthorizedKeysFile {authorized}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel VERBOSE
{extra}
"""


def start_sshd(directory: Path, extra: str = "") -> SshServer:
    """OpenSSH sshd on 127.0.0.1 with a fresh host key and an authorised client key for root."""
    sshd = need_binary("sshd", "/usr/sbin/sshd")
    keygen = need_binary("ssh-keygen", "/usr/bin/ssh-keygen")
    need(os.geteuid() == 0, "sshd logs in as root here (PermitRootLogin prohibit-password)")
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("host_ed25519", "client_ed25519", "other_ed25519"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(directory / name)], check=True)
    (directory / "authorized_keys").write_text((directory / "client_ed25519.pub").read_text())
    port = free_port()
    config = directory / "sshd_config"
    config.write_text(
        SSHD_CONFIG.format(
            port=port,
            host_key=directory / "host_ed25519",
            pid=directory / "sshd.pid",
            authorized=directory / "authorized_keys",
            extra=extra,
        )
    )
    peer = Peer([sshd, "-D", "-e", "-f", str(config)], log=directory / "sshd.log")
    wait_for(lambda: peer.assert_running() or tcp_open("127.0.0.1", port), 10, "sshd")
    key_type, key_data = (directory / "host_ed25519.pub").read_text().split()[:2]
    line = f"[127.0.0.1]:{port} {key_type} {key_data}"
    known_hosts = directory / "known_hosts"
    known_hosts.write_text(line + "\n")
    return SshServer(port, line, directory / "client_ed25519", directory / "other_ed25519", known_hosts, peer)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    server = start_sshd(tmp_path / "sshd")
    yield server
    server.peer.stop()


@dataclass
class FakeDevice:
    server: SshServer
    device_type: str
    commands_log: Path

    def received(self) -> list[str]:
        return self.commands_log.read_text().splitlines() if self.commands_log.exists() else []


@pytest.fixture
def fake_device(tmp_path: Path) -> Iterator[Callable[[str], FakeDevice]]:
    """sshd whose session is a network CLI replaying tests/data/ssh/<type>/ outputs."""
    servers: list[SshServer] = []

    def start(device_type: str) -> FakeDevice:
        import sys

        directory = tmp_path / f"sshd-{device_type}"
        log = directory / "commands.log"
        data = HERE.parent / "data" / "ssh" / device_type
        command = f"ForceCommand {sys.executable} {HERE / 'fake_cli.py'} {device_type} {data} {log}"
        server = start_sshd(directory, extra=command)
        servers.append(server)
        return FakeDevice(server, device_type, log)

    yield start
    for server in servers:
        server.peer.stop()
