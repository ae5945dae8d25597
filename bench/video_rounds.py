"""Camera and conference-terminal rounds: how long one round of the contract's fleets takes.

Run from the repository root (kamailio and sipp from Debian for the SIP part)::

    /tmp/venv/bin/python bench/video_rounds.py            # 1,500 cameras, 1,500 terminals
    /tmp/venv/bin/python bench/video_rounds.py --count 500

- RTSP: one round of OPTIONS + DESCRIBE with Digest authentication (two requests after the
  challenge: three round trips per camera) against a pure-Python camera responder in another
  process (``agent.demo_video.RtspResponder``), 512 probes in flight;
- SIP: one round of OPTIONS over one UDP socket against kamailio, side by side with sipp as a
  UAC sending the same number of OPTIONS transactions as fast as it can (the reference).

Prints the median over ``--repeat`` runs of wall time and this process's CPU time for the
round, and how many answered. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.commands.probe import build_target  # noqa: E402
from collectors.base import Target  # noqa: E402
from collectors.rtsp import RtspCollector  # noqa: E402
from collectors.sip import SipCollector  # noqa: E402

RESPONDER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from agent.demo_video import RtspResponder
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


def bench_rtsp(count: int, repeat: int) -> None:
    port = free_port()
    root = str(Path(__file__).resolve().parent.parent)
    server = subprocess.Popen([sys.executable, "-c", RESPONDER.format(root=root, port=port)], stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == b"ready"
        batch = targets("rtsp", count, port=port, path="/Streaming/Channels/101", username="admin",
                        password="Demo#2026", timeout=10)
        runs = [asyncio.run(timed(RtspCollector(), batch)) for _ in range(repeat)]
        report(f"rtsp OPTIONS+DESCRIBE+Digest x {count}", runs, count)
    finally:
        server.terminate()
        server.wait()


def bench_sip(count: int, repeat: int) -> None:
    if not shutil.which("kamailio"):
        print("sip: kamailio not installed, skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        cfg = Path(tmp, "k.cfg")
        cfg.write_text(KAMAILIO.format(port=port))
        kamailio = subprocess.Popen(
            ["kamailio", "-DD", "-E", "-f", str(cfg), "-P", f"{tmp}/pid", "-Y", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            time.sleep(1.0)
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
            import os
            import signal

            os.killpg(kamailio.pid, signal.SIGTERM)
            kamailio.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_rtsp(args.count, args.repeat)
    bench_sip(args.count, args.repeat)


if __name__ == "__main__":
    main()
