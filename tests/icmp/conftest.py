"""Fixtures of the ICMP tests: a throw-away network namespace where echoes can be dropped,
rejected, delayed or answered by a scripted responder without touching the host."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from peers import Peer, need_binary, need_root, wait_for

HERE = Path(__file__).parent
REPO = HERE.parent.parent


class Namespace:
    """A network namespace with only ``lo`` (up): every 127.0.0.0/8 address answers ping."""

    def __init__(self, name: str, ip: str) -> None:
        self.name = name
        self.ip = ip

    def run(
        self, argv: Sequence[str], timeout: float = 60.0, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace (from the repository root); fail the test if it fails."""
        done = subprocess.run(
            [self.ip, "netns", "exec", self.name, *argv],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )
        if check and done.returncode != 0:
            pytest.fail(f"{argv[0]} in {self.name} exited {done.returncode}:\n{done.stderr[-3000:]}", pytrace=False)
        return done

    def sysctl(self, key: str, value: str) -> None:
        self.run(["sh", "-c", f"echo '{value}' > /proc/sys/{key.replace('.', '/')}"])

    def nft(self, ruleset: str) -> None:
        """Load an nftables ruleset into this namespace only."""
        nft = need_binary("nft", "/usr/sbin/nft")
        self.run([nft, "-f", "-"], stdin=ruleset)

    def probe(self, spec: dict[str, Any], drop: Sequence[str] = ()) -> dict[str, Any]:
        """One ICMP round run by a Python process inside the namespace (tests/icmp/netns_probe.py),
        without the capabilities named in ``drop`` (e.g. ``cap_net_raw``) even though we are root."""
        argv = [sys.executable, str(HERE / "netns_probe.py"), json.dumps(spec)]
        if drop:
            capsh = need_binary("capsh", "/usr/sbin/capsh", "/sbin/capsh")
            argv = [capsh, f"--drop={','.join(drop)}", "--", "-c", subprocess.list2cmdline(argv)]
        done = self.run(argv)
        return json.loads(done.stdout)

    def start(self, argv: Sequence[str], log: Path) -> Peer:
        return Peer([self.ip, "netns", "exec", self.name, *argv], log=log, cwd=REPO)


@pytest.fixture
def netns() -> Iterator[Namespace]:
    need_root("creating network namespaces")
    ip = need_binary("ip", "/usr/sbin/ip", "/sbin/ip")
    name = f"yw-test-{secrets.token_hex(4)}"
    subprocess.run([ip, "netns", "add", name], check=True, capture_output=True)
    try:
        namespace = Namespace(name, ip)
        namespace.run([ip, "link", "set", "lo", "up"])
        yield namespace
    finally:
        subprocess.run([ip, "netns", "del", name], capture_output=True)


@pytest.fixture
def responder(netns: Namespace, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Start tests/icmp/slow_responder.py in the namespace with a plan; the kernel's replies are off."""
    peers: list[Peer] = []

    def start(plan: dict[str, list[object]]) -> Peer:
        netns.sysctl("net.ipv4.icmp_echo_ignore_all", "1")
        log = tmp_path / f"responder-{len(peers)}.log"
        peer = netns.start([sys.executable, "-u", str(HERE / "slow_responder.py"), json.dumps(plan)], log)
        peers.append(peer)
        wait_for(lambda: (peer.assert_running(), "ready" in peer.log_text())[1], timeout=10, what="ICMP responder")
        return peer

    yield start
    for peer in peers:
        peer.stop()
