"""Hostile SSH servers: an endless banner, endless lines before the identification, a banner
trickled a byte at a time, a server that identifies itself and then trickles its key exchange.

paramiko alone reads a banner line that never ends for its whole negotiation timeout (its line
buffer has no limit) and ends every one of these in "No existing session". Each inspection here ends within
its login deadline (twice the probe's timeout) with an error that says why, a real sshd in the
same round still gets inspected, and the test process's memory stays within a stated bound.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bounds_support import Handler, HostileServer, peak_rss_growth, trickle_bytes
from video.conftest import start_sshd

from cli.commands.probe import build_target
from collectors.base import CollectorContext
from collectors.ssh import SshCollector

PROBE_TIMEOUT = 1.0
LOGIN_DEADLINE = 2 * PROBE_TIMEOUT
MARGIN = 2.0
SSHD_TIMEOUT = 4.0
MEMORY_BOUND_MIB = 30


async def endless_banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        writer.write(b"Welcome " * 8192)  # never a line end
        await writer.drain()


async def endless_lines(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        writer.write(b"Authorised use only.\r\n" * 2000)
        await writer.drain()


async def trickled_banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await trickle_bytes(writer, b"SSH-2.0-OpenSSH_9.2\r\n" * 50, 0.3)


async def trickled_key_exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
    await writer.drain()
    for _ in range(1000):
        writer.write(b"\x00")
        await writer.drain()
        await asyncio.sleep(0.3)


HOSTILE: dict[str, tuple[Handler, str | tuple[str, ...]]] = {
    "endless-banner": (endless_banner, "no SSH identification in the first 8 KiB the server sent"),
    "endless-lines": (endless_lines, "no SSH identification in the first 8 KiB the server sent"),
    "trickled-banner": (trickled_banner, f"timeout: no SSH login within {LOGIN_DEADLINE:g} s"),
    # paramiko gives up on the garbled key exchange itself, or the deadline ends it
    "trickled-kex": (trickled_key_exchange, (f"timeout: no SSH login within {LOGIN_DEADLINE:g} s", "SSH failed: ")),
}


async def test_hostile_ssh_servers_end_within_the_login_deadline_and_a_real_sshd_is_inspected(tmp_path: Path) -> None:
    sshd = start_sshd(tmp_path / "sshd")
    try:
        servers = {name: HostileServer(handler).__enter__() for name, (handler, _) in HOSTILE.items()}
        try:
            def target(port: int, known_hosts: Path, timeout: float) -> object:
                return build_target("ssh", "127.0.0.1", {
                    "device_type": "linux", "port": port, "username": "root", "key_file": str(sshd.client_key),
                    "known_hosts": str(known_hosts), "timeout": timeout, "commands": ["uptime"],
                })

            order = [*HOSTILE, "sshd"]
            targets = [target(servers[name].port, tmp_path / "none", PROBE_TIMEOUT) for name in HOSTILE]
            # a real login with key exchange takes a second or two on a busy two-core machine
            targets.append(target(sshd.port, sshd.known_hosts, SSHD_TIMEOUT))
            collector = SshCollector(CollectorContext(data_dir=tmp_path / "data"))
            with peak_rss_growth() as growth:
                started = time.monotonic()
                samples = await collector.collect(targets)  # type: ignore[arg-type]
                elapsed = time.monotonic() - started
        finally:
            for server in servers.values():
                server.__exit__(None, None, None)
    finally:
        sshd.peer.stop()
    by_name = dict(zip(order, samples, strict=True))
    assert by_name["sshd"].ok, by_name["sshd"].error
    for name, (_, expected) in HOSTILE.items():
        sample = by_name[name]
        assert not sample.ok and sample.error is not None and sample.error.startswith(expected), f"{name}: {sample.error}"
    print(f"ssh: {elapsed:.2f} s, peak RSS growth {growth.mib:.1f} MiB; " + "; ".join(f"{n}: {s.error}" for n, s in by_name.items()))
    assert elapsed < LOGIN_DEADLINE + MARGIN + 1.0, f"the round took {elapsed:.1f} s"
    assert growth.mib < MEMORY_BOUND_MIB, f"peak RSS rose {growth.mib:.0f} MiB"
