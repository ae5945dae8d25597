"""Benchmark: SNMP traps received, decoded and stored by the yunwei daemon vs net-snmp's
``snmptrapd`` logging to a file, on the same burst; and the time from ``snmptrap`` to the chat.

1. Rate. The same pre-encoded SNMPv2c linkDown traps (distinct request-ids) are sent from one
   loopback source, paced in blocks (``--pace`` per second), to ``yunwei run`` (traps section,
   rate limit off) and then to ``snmptrapd -f -Lf FILE`` (``disableAuthorization yes``). Each
   receiver's count is read until it stops growing: rows in the ``events`` table, lines in
   snmptrapd's log. Printed: traps handled, lost, wall rate (handled / time from the first
   datagram to the last one handled), CPU seconds of the receiving process, and the ratio.
2. Latency. ``yunwei run`` with one switch (snmpd whose ``lo`` reports down) and a DingTalk-
   compatible chat sink: ``snmptrap`` linkDown → confirming probe → fault → chat. The median
   of ``--latency-runs`` (linkUp resolves between runs).

Run by hand (loopback only; snmptrapd and snmpd from Debian's snmptrapd/snmpd packages)::

    python bench/traps.py --traps 50000 --pace 20000
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors._snmp import ber, notify  # noqa: E402
from demo.chat_sink import ChatSink  # noqa: E402

COMMUNITY = "bench"
ENV = {**os.environ, "MIBS": ""}


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def link_down(request_id: int, index: int = 1) -> bytes:
    varbinds = [
        ber.VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 1, index), ber.INTEGER, index),
        ber.VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 7, index), ber.INTEGER, 1),
        ber.VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 8, index), ber.INTEGER, 2),
    ]
    return notify.community_trap(COMMUNITY.encode(), (1, 3, 6, 1, 6, 3, 1, 1, 5, 3), varbinds, 4242, request_id)


def blast(port: int, datagrams: list[bytes], pace: float) -> float:
    """Send every datagram, ``pace`` per second in blocks of 500; returns when the first left."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.9", 0))
        first = time.monotonic()
        for start in range(0, len(datagrams), 500):
            for datagram in datagrams[start : start + 500]:
                sock.sendto(datagram, ("127.0.0.1", port))
            delay = first + (start + 500) / pace - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return first


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(count: callable, expected: int, quiet: float = 1.0, limit: float = 120.0) -> tuple[int, float]:  # type: ignore[valid-type]
    """Poll ``count()`` until it reaches ``expected`` or stops growing for ``quiet`` s: (count, when it last grew)."""
    last, last_change, started = -1, time.monotonic(), time.monotonic()
    while time.monotonic() - started < limit:
        now = count()
        if now != last:
            last, last_change = now, time.monotonic()
        if now >= expected or time.monotonic() - last_change > quiet:
            break
        time.sleep(0.05)
    return max(last, 0), last_change


def wait_port(check: callable, what: str, timeout: float = 15.0) -> None:  # type: ignore[valid-type]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise SystemExit(f"{what} did not start")


def run_yunwei(root: Path, config: dict, log: Path) -> subprocess.Popen[bytes]:
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run", "-c", str(path)],
        cwd=Path(__file__).resolve().parents[1], stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def events_in(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    except sqlite3.Error:
        return -1


def bench_yunwei(root: Path, datagrams: list[bytes], pace: float) -> dict[str, float]:
    port = free_port()
    config = {
        "agent": {"id": "bench-traps", "data_dir": str(root / "data")},
        "alerting": {"enabled": False},
        "traps": {"listen": f"127.0.0.1:{port}", "communities": [COMMUNITY], "rate_per_source": 1e9, "burst": 10**9},
    }
    process = run_yunwei(root, config, root / "yunwei.log")
    db = root / "data" / "yunwei.db"
    try:
        wait_port(lambda: "trap receiver listening" in (root / "yunwei.log").read_text(errors="replace"), "yunwei")
        cpu0 = cpu_seconds(process.pid)
        first = blast(port, datagrams, pace)
        handled, last = settle(lambda: events_in(db), len(datagrams))
        cpu = cpu_seconds(process.pid) - cpu0
    finally:
        stop(process)
    return {"handled": handled, "seconds": last - first, "cpu": cpu}


def bench_snmptrapd(root: Path, datagrams: list[bytes], pace: float) -> dict[str, float] | None:
    binary = "/usr/sbin/snmptrapd"
    if not os.access(binary, os.X_OK):
        print("snmptrapd not installed (apt-get install snmptrapd): skipped", file=sys.stderr)
        return None
    port = free_port()
    conf, log = root / "snmptrapd.conf", root / "traps.log"
    # the same 4 MiB receive buffer yunwei asks for (net-snmp's library token, in the [snmp] section)
    conf.write_text(f"snmpTrapdAddr udp:127.0.0.1:{port}\ndisableAuthorization yes\ndoNotRetainNotificationLogs yes\n[snmp] serverRecvBuf 4194304\n")
    process = subprocess.Popen(
        [binary, "-f", "-n", "-C", "-c", str(conf), "-Lf", str(log), "-On", "-F", "%B %N %v\n", "-p", str(root / "trapd.pid")],
        env={**ENV, "SNMP_PERSISTENT_DIR": str(root / "trapd")}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def lines() -> int:
        try:
            with log.open("rb") as handle:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        except OSError:
            return 0

    try:
        wait_port(lambda: log.exists() and "NET-SNMP version" in log.read_text(errors="replace"), "snmptrapd")
        base = lines()
        cpu0 = cpu_seconds(process.pid)
        first = blast(port, datagrams, pace)
        handled, last = settle(lambda: lines() - base, len(datagrams))
        cpu = cpu_seconds(process.pid) - cpu0
    finally:
        stop(process)  # type: ignore[arg-type]
    return {"handled": handled, "seconds": last - first, "cpu": cpu}


def start_switch(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    (root / "snmpd.conf").write_text(
        f"agentAddress udp:127.0.0.1:{port}\nrocommunity bench-ro 127.0.0.1\noverride 1.3.6.1.2.1.2.2.1.8.1 integer 2\n"
    )
    process = subprocess.Popen(
        ["/usr/sbin/snmpd", "-f", "-C", "-c", str(root / "snmpd.conf"), "-Lf", str(root / "snmpd.log"), "-p", str(root / "snmpd.pid")],
        env={**ENV, "SNMP_PERSISTENT_DIR": str(root / "snmpd")}, start_new_session=True,
    )

    def answers() -> bool:
        message = ber.encode_request(1, b"bench-ro", ber.GET, 1, [(1, 3, 6, 1, 2, 1, 1, 3, 0)])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.2)
            sock.sendto(message, ("127.0.0.1", port))
            try:
                sock.recvfrom(2048)
                return True
            except OSError:
                return False

    wait_port(answers, "snmpd")
    return process, port


def bench_latency(root: Path, runs: int) -> list[float]:
    sink = ChatSink("tok-bench", "SECbench")
    sink.start()
    switch, snmp_port = start_switch(root)
    trap_port = free_port()
    config = {
        "agent": {"id": "bench-latency", "data_dir": str(root / "data-latency")},
        "units": [{"id": "u", "name": "单位"}],
        "systems": [{"id": "s", "name": "系统", "unit": "u"}],
        "devices": [{"id": "sw", "name": "交换机", "kind": "switch", "address": "127.0.0.3", "unit": "u", "system": "s",
                     "probes": {"snmp": {"address": "127.0.0.1", "port": snmp_port, "community": "bench-ro", "interfaces": ["lo"],
                                         "timeout": 0.5, "retries": 0}}, "interval": 3600}],
        "alerting": {"hold_seconds": 0, "tick_seconds": 0.5, "outbox": {"poll_seconds": 0.1},
                     "channels": {"chat": {"type": "dingtalk", "url": sink.url, "secret": "SECbench"}},
                     "routes": [{"channels": ["chat"]}], "rules": [{"kinds": "switch", "level": 2}]},
        "traps": {"listen": f"127.0.0.1:{trap_port}", "communities": [COMMUNITY]},
    }
    process = run_yunwei(root, config, root / "latency.log")
    timings: list[float] = []
    trap = ["snmptrap", "--clientaddr=127.0.0.3", "-v2c", "-c", COMMUNITY, f"127.0.0.1:{trap_port}", ""]
    env = {**ENV, "SNMP_PERSISTENT_DIR": str(root / "snmptrap")}
    try:
        wait_port(lambda: "trap receiver listening" in (root / "latency.log").read_text(errors="replace"), "yunwei")
        time.sleep(3.0)  # the first round: the poller learns ifIndex 1 = lo
        for _ in range(runs):
            before = len(sink.received)
            started = time.monotonic()
            subprocess.run([*trap, "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.1", "i", "1"], env=env, check=True)
            while len(sink.received) == before and time.monotonic() - started < 10:
                time.sleep(0.005)
            timings.append(time.monotonic() - started if len(sink.received) > before else float("inf"))
            before = len(sink.received)
            subprocess.run([*trap, "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.1.1", "i", "1"], env=env, check=True)
            deadline = time.monotonic() + 10
            while len(sink.received) == before and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        stop(process)
        os.killpg(switch.pid, signal.SIGTERM)
        switch.wait(5)
        sink.stop()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traps", type=int, default=50000)
    parser.add_argument("--pace", type=float, default=20000, help="datagrams per second sent (default 20000)")
    parser.add_argument("--latency-runs", type=int, default=5)
    args = parser.parse_args()
    datagrams = [link_down(i + 1, 1 + i % 48) for i in range(args.traps)]
    with tempfile.TemporaryDirectory(prefix="yunwei-bench-traps-") as tmp:
        root = Path(tmp)
        ours = bench_yunwei(root, datagrams, args.pace)
        theirs = bench_snmptrapd(root, datagrams, args.pace)
        print(f"burst: {args.traps} SNMPv2c traps from one source, sent at up to {args.pace:.0f}/s")
        for name, result in (("yunwei (decode + store)", ours), ("snmptrapd (log to file)", theirs)):
            if result is None:
                continue
            rate = result["handled"] / result["seconds"] if result["seconds"] > 0 else float("nan")
            print(
                f"  {name:<26} handled {result['handled']:>7.0f}  lost {args.traps - result['handled']:>6.0f}"
                f"  {rate:>8.0f} traps/s  CPU {result['cpu']:.2f} s ({1e6 * result['cpu'] / max(1, result['handled']):.0f} µs/trap)"
            )
        if theirs is not None and theirs["handled"] and theirs["seconds"] > 0 and ours["seconds"] > 0:
            ratio = (ours["handled"] / ours["seconds"]) / (theirs["handled"] / theirs["seconds"])
            cpu_ratio = (ours["cpu"] / max(1, ours["handled"])) / max(1e-9, theirs["cpu"] / max(1, theirs["handled"]))
            print(f"  ratio yunwei/snmptrapd: {ratio:.2f}x the rate, {cpu_ratio:.2f}x the CPU per trap")
        timings = bench_latency(root, args.latency_runs)
        finite = [t for t in timings if t != float("inf")]
        shown = ", ".join(f"{t:.3f}" if t != float("inf") else "lost" for t in timings)
        median = statistics.median(finite) if finite else float("inf")
        print(f"snmptrap linkDown → chat sink (confirming probe included): median {median:.3f} s over {len(timings)} ({shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
