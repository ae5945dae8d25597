"""Camera and conference-terminal rounds: how long one round of the contract's fleets takes.

Run from the repository root (kamailio and sipp from Debian for the SIP part)::

    /tmp/venv/bin/python bench/video_rounds.py            # 1,500 cameras, 1,500 terminals
    /tmp/venv/bin/python bench/video_rounds.py --count 500

- RTSP: one round of OPTIONS + DESCRIBE with Digest authentication (two requests after the
  challenge: three round trips per camera) against a pure-Python camera responder in another
  process (``demo.video.RtspResponder``), 512 probes in flight;
- SIP: one round of OPTIONS over one UDP socket against kamailio, side by side with sipp as a
  UAC sending the same number of OPTIONS transactions as fast as it can (the reference).

Prints the median over ``--repeat`` runs of wall time and this process's CPU time for the
round, and how many answered. Only 127.0.0.1 is used.

Every peer it starts (the responder, kamailio) runs in its own process group and is stopped,
group and all, however the bench ends: normal end or an error (``finally``), Ctrl-C, SIGTERM
or SIGHUP (a handler stops the peers, then exits); and the kernel sends it SIGTERM should the
bench itself be killed (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cli.commands.probe import build_target  # noqa: E402
from collectors.base import Target  # noqa: E402
from collectors.rtsp import RtspCollector  # noqa: E402
from collectors.sip import SipCollector  # noqa: E402

RESPONDER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from demo.video import RtspResponder
async def main():
    responder = RtspResponder("127.0.0.1", {port})
    await responder.open()
    print("ready", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""
KAMAILIO = """#!KAMAILIO
log_stderror=yes
children=2
listen=udp:127.0.0.1:{port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "sl.so"
request_route {{ if (method=="OPTIONS") {{ sl_send_reply("200","OK"); exit; }} }}
"""
UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="OPTIONS UAC">
  <send><![CDATA[
OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:bench@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
</scenario>
"""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the bench dies, even by SIGKILL (PR_SET_PDEATHSIG = 1)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


class Peers:
    """The processes the bench starts; each in its own process group, all stopped on exit."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, argv: Sequence[str], **options: Any) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(list(argv), start_new_session=True, preexec_fn=_die_with_parent, **options)
        self.started.append(process)
        return process

    def stop(self, reap: bool = True) -> None:
        """SIGTERM to every peer's process group; after the leader exits (or 5 s) SIGKILL to what is left.

        The leader is reaped (``reap``) only after its group got SIGKILL: until then its PID (the
        group's id) cannot be reused, so the signal reaches only processes this bench started."""
        alive = [p for p in reversed(self.started) if p.returncode is None]
        for process in alive:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        for process in alive:
            while time.monotonic() < deadline and not _exited(process.pid):
                time.sleep(0.02)
            _signal_group(process.pid, signal.SIGKILL)  # stragglers, and forked children left behind
            if reap:
                process.wait()
        if reap:
            self.started.clear()

    def stop_on_signals(self) -> None:
        """Ctrl-C, SIGTERM, SIGHUP: stop the peers, then exit at once.

        Not an exception raised into the interrupted code: one raised inside a ``__del__`` or a
        callback is swallowed and the bench ran on (seen with SIGTERM during asyncio.run)."""

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop(reap=False)  # no Popen.wait here: the interrupted code may hold its lock
            print(f"video_rounds: stopped by signal {signum}; peers stopped", file=sys.stderr, flush=True)
            sys.stdout.flush()
            os._exit(128 + signum)

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, handler)

    def __enter__(self) -> Peers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _exited(pid: int) -> bool:
    """Whether the child exited, without reaping it (it stays a zombie holding its PID)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped already
        return True


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def targets(collector: str, count: int, **options: object) -> list[Target]:
    base = build_target(collector, "127.0.0.1", dict(options))
    return [Target(device=base.device.model_copy(update={"id": f"d{i}"}), probe=base.probe) for i in range(count)]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def timed(collector: object, batch: list[Target]) -> tuple[float, float, int]:
    clock, used = time.perf_counter(), cpu()
    samples = await collector.collect(batch)  # type: ignore[attr-defined]
    return time.perf_counter() - clock, cpu() - used, sum(s.ok for s in samples)


def report(name: str, runs: list[tuple[float, float, int]], count: int) -> None:
    wall = statistics.median(r[0] for r in runs)
    used = statistics.median(r[1] for r in runs)
    answered = "/".join(str(r[2]) for r in runs)
    print(f"{name:<44} wall {wall:6.2f} s  cpu {used:6.2f} s  {count / wall:7.0f}/s  answered {answered} of {count}")


def bench_rtsp(peers: Peers, count: int, repeat: int) -> None:
    port = free_port()
    root = str(Path(__file__).resolve().parent.parent)
    server = peers.start([sys.executable, "-c", RESPONDER.format(root=root, port=port)], stdout=subprocess.PIPE)
    assert server.stdout is not None
    if server.stdout.readline().strip() != b"ready":
        raise SystemExit(f"the RTSP responder did not start (exit code {server.poll()})")
    batch = targets("rtsp", count, port=port, path="/Streaming/Channels/101", username="admin",
                    password="Demo#2026", timeout=10)
    runs = [asyncio.run(timed(RtspCollector(), batch)) for _ in range(repeat)]
    report(f"rtsp OPTIONS+DESCRIBE+Digest x {count}", runs, count)


def wait_for_sip(port: int, seconds: float = 10.0) -> None:
    """Bounded readiness poll: an OPTIONS answered, or SystemExit after ``seconds``."""
    [probe] = targets("sip", 1, port=port, timeout=0.5)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if asyncio.run(SipCollector().collect([probe]))[0].ok:
            return
    raise SystemExit(f"kamailio did not answer OPTIONS on 127.0.0.1:{port} within {seconds:g} s")


def bench_sip(peers: Peers, count: int, repeat: int) -> None:
    if not shutil.which("kamailio"):
        print("sip: kamailio not installed, skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        cfg = Path(tmp, "k.cfg")
        cfg.write_text(KAMAILIO.format(port=port))
        peers.start(
            ["kamailio", "-DD", "-E", "-f", str(cfg), "-P", f"{tmp}/pid", "-Y", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_sip(port)
            batch = targets("sip", count, port=port, timeout=3)
            runs = [asyncio.run(timed(SipCollector(), batch)) for _ in range(repeat)]
            report(f"sip OPTIONS over one UDP socket x {count}", runs, count)
            if shutil.which("sipp"):
                scenario = Path(tmp, "uac.xml")
                scenario.write_text(UAC)
                walls = []
                for _ in range(repeat):
                    clock = time.perf_counter()
                    done = subprocess.run(
                        ["sipp", f"127.0.0.1:{port}", "-sf", str(scenario), "-m", str(count), "-r", "10000",
                         "-rp", "1000", "-l", str(count), "-i", "127.0.0.1", "-nostdin", "-timeout", "30s"],
                        cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
                    )
                    walls.append(time.perf_counter() - clock)
                    if done.returncode != 0:
                        print(f"sipp exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
                wall = statistics.median(walls)
                ours = statistics.median(r[0] for r in runs)
                print(f"{'sipp UAC, same OPTIONS (reference)':<44} wall {wall:6.2f} s  (yunwei / sipp = {ours / wall:.2f})")
        finally:
            peers.stop()  # before the temporary directory (kamailio's run dir) goes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("rtsp", "sip"), help="run one part only")
    args = parser.parse_args()
    with Peers() as peers:
        peers.stop_on_signals()
        if args.only in (None, "rtsp"):
            bench_rtsp(peers, args.count, args.repeat)
            peers.stop()
        if args.only in (None, "sip"):
            bench_sip(peers, args.count, args.repeat)


if __name__ == "__main__":
    main()
