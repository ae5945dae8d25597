"""ICMP round benchmark: yunwei's one-socket engine vs fping (and ping3) on the same addresses.

Run as root (raw sockets, like fping here) from the repository root::

    /tmp/venv/bin/python bench/icmp_round.py            # everything, about 2 minutes
    /tmp/venv/bin/python bench/icmp_round.py --quick    # unpaced comparison only

Prints, per case, the median over ``--repeat`` runs of wall time, CPU time (fping: the
child's rusage; the engine: this process's rusage for the round) and replies received,
and the ratios engine / fping. Targets on a 2-core machine (issue 2): unpaced wall <= 2 x
fping and CPU <= 3 x fping; the paced default finishes 10,000 targets well inside 60 s;
agent RSS with 10,000 targets < 200 MB. Only 127.0.0.0/8 is ever pinged.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors.icmp import icmp_permission_problem, ping_many  # noqa: E402


@dataclass
class Run:
    wall: float
    cpu: float
    received: int
    lag: float | None = None  # worst event-loop delay seen during the round


def addresses(count: int) -> list[str]:
    """``count`` distinct loopback addresses, 250 per /24 (never .0 or .255)."""
    return [f"127.100.{i // 250}.{i % 250 + 1}" for i in range(count)]


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_fping(fping: str, targets: list[str], interval_ms: float, workdir: Path) -> Run:
    listing = workdir / f"targets-{len(targets)}.txt"
    listing.write_text("\n".join(targets) + "\n")
    argv = [fping, "-q", "-c", "1", "-t", "2000", "-i", f"{interval_ms:g}", "-f", str(listing)]
    cpu, wall = cpu_children(), time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, cpu_children() - cpu
    received = sum(1 for m in re.finditer(r"xmt/rcv/%loss = (\d+)/(\d+)/", done.stderr) if int(m.group(2)) > 0)
    return Run(wall, cpu, received)


def run_engine(targets: list[str], count: int, interval_ms: float, in_thread: bool = False) -> Run:
    """One engine round while a 1 ms ticker on the same loop records how late it fires.

    ``in_thread``: the round runs on its own event loop in a dedicated thread instead (the
    alternative design), and the ticker measures the main loop's lag meanwhile.
    """

    async def one_round() -> int:
        stats = await ping_many(targets, count=count, timeout=2.0, interval_ms=interval_ms)
        return sum(1 for s in stats.values() if s.received == count)

    async def round_with_lag_probe() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        worst = 0.0
        stop = False

        async def ticker() -> None:  # how late does a 1 ms timer fire while the round runs?
            nonlocal worst
            while not stop:
                expected = loop.time() + 0.001
                await asyncio.sleep(0.001)
                worst = max(worst, loop.time() - expected)

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        if in_thread:
            received = await loop.run_in_executor(None, asyncio.run, one_round())
        else:
            received = await one_round()
        stop = True
        await tick
        return received, worst

    cpu, wall = cpu_self(), time.perf_counter()
    received, lag = asyncio.run(round_with_lag_probe())
    return Run(time.perf_counter() - wall, cpu_self() - cpu, received, lag)


def run_ping3_sequential(targets: list[str]) -> Run:
    import ping3

    cpu, wall = cpu_self(), time.perf_counter()
    received = sum(1 for t in targets if ping3.ping(t, timeout=2) not in (None, False))
    return Run(time.perf_counter() - wall, cpu_self() - cpu, received)


def run_ping3_threads(targets: list[str], threads: int) -> Run:
    import ping3

    cpu, wall = cpu_self(), time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        replies = list(pool.map(lambda t: ping3.ping(t, timeout=2), targets))
    received = sum(1 for r in replies if r not in (None, False))
    return Run(time.perf_counter() - wall, cpu_self() - cpu, received)


def median_run(function: Callable[[], Run], repeat: int) -> Run:
    runs = [function() for _ in range(repeat)]
    lags = [r.lag for r in runs if r.lag is not None]
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        min(r.received for r in runs),
        max(lags) if lags else None,
    )


def show(label: str, run: Run, total: int, reference: Run | None = None) -> None:
    line = f"  {label:<44} wall {run.wall:8.3f} s  cpu {run.cpu:7.3f} s  replies {run.received:>6}/{total}"
    if run.lag is not None:
        line += f"  loop lag max {run.lag * 1000:5.1f} ms"
    if reference is not None and reference.wall > 0 and reference.cpu > 0:
        line += f"  | x fping: wall {run.wall / reference.wall:4.2f}  cpu {run.cpu / reference.cpu:4.2f}"
    print(line, flush=True)


RSS_SCRIPT = r"""
import asyncio, json, os, resource, sys, tempfile, time
sys.path.insert(0, sys.argv[3])
import yaml
from inventory.config import load_config
from agent.runtime import Agent

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

count, per_device = int(sys.argv[1]), sys.argv[2] == "per-device"
data_dir = tempfile.mkdtemp(prefix="yw-bench-")
probes = {"icmp": {"count": 1, "timeout": 2, "interval_ms": 0}}
group = {"id": "cams", "name": "cameras", "kind": "camera"}
if not per_device:
    group["probes"] = probes
devices = []
for i in range(count):
    device = {"id": f"cam-{i:05d}", "group": "cams", "address": f"127.100.{i // 250}.{i % 250 + 1}"}
    if per_device:
        device["probes"] = probes
    devices.append(device)
path = os.path.join(data_dir, "config.yaml")
with open(path, "w") as handle:
    yaml.safe_dump({"agent": {"data_dir": data_dir}, "groups": [group], "devices": devices}, handle, sort_keys=False)
started = time.perf_counter()
inventory = load_config(path)
loaded, rss_loaded = time.perf_counter() - started, rss_mb()

async def main():
    agent = Agent(inventory, attach_hooks=False)
    started = time.perf_counter()
    results = await agent.run_all_once()
    took = time.perf_counter() - started
    agent.writer.shutdown(wait=True)
    return took, sum(s.ok for r in results for s in r.samples)

took, ok = asyncio.run(main())
print(json.dumps({"load_s": loaded, "round_s": took, "ok": ok, "rss_loaded_mb": rss_loaded, "rss_end_mb": rss_mb(),
                  "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def agent_rss(count: int, layout: str) -> dict[str, float]:
    repo = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(count), layout, repo], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is shown (default 3)")
    parser.add_argument("--quick", action="store_true", help="only the unpaced engine-vs-fping comparison")
    args = parser.parse_args()
    problem = icmp_permission_problem()
    if problem:
        print(f"bench: {problem}", file=sys.stderr)
        return 2
    fping = shutil.which("fping")
    if not fping:
        print("bench: fping is not installed (apt-get install fping)", file=sys.stderr)
        return 2
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, fping {fping}, medians of {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="yw-icmp-bench-") as tmp:
        workdir = Path(tmp)
        print("\nUnpaced: one echo per target, as fast as possible (fping -i 0)")
        for total in (1000, 10000):
            targets = addresses(total)
            reference = median_run(lambda t=targets: run_fping(fping, t, 0, workdir), args.repeat)
            show(f"fping -i 0, {total:,} targets", reference, total)
            engine = median_run(lambda t=targets: run_engine(t, 1, 0), args.repeat)
            show(f"yunwei engine interval_ms=0, {total:,}", engine, total, reference)
            threaded = median_run(lambda t=targets: run_engine(t, 1, 0, in_thread=True), args.repeat)
            show(f"  same, engine in a dedicated thread, {total:,}", threaded, total, reference)
        if args.quick:
            return 0

        print("\nPaced: one echo per target, 1 ms apart (fping -i 1; yunwei's default interval_ms)")
        targets = addresses(10000)
        reference = run_fping(fping, targets, 1, workdir)
        show("fping -i 1, 10,000 targets", reference, 10000)
        engine = run_engine(targets, 1, 1.0)
        show("yunwei engine interval_ms=1, 10,000", engine, 10000, reference)
        threaded = run_engine(targets, 1, 1.0, in_thread=True)
        show("  same, engine in a dedicated thread", threaded, 10000, reference)
        engine3 = run_engine(targets, 3, 1.0)
        show("yunwei engine defaults (count 3), 10,000", engine3, 10000)

        print("\nping3 (the card's library): one socket per ping")
        if importlib.util.find_spec("ping3") is None:
            print("  ping3 is not installed: pip install -e '.[bench]' to compare (the agent does not use it)")
        for total in (1000, 10000) if importlib.util.find_spec("ping3") else ():
            targets = addresses(total)
            show(f"ping3 sequential, {total:,}", run_ping3_sequential(targets), total)
        for total, threads in ((1000, 64), (10000, 256)) if importlib.util.find_spec("ping3") else ():
            targets = addresses(total)
            show(f"ping3 in {threads} threads, {total:,}", run_ping3_threads(targets, threads), total)

        print("\nAgent with 10,000 icmp devices: yunwei's load_config + Agent.run_all_once, fresh process")
        for layout, label in (("group", "probe options in the group"), ("per-device", "probe options on each device")):
            f = agent_rss(10000, layout)
            print(
                f"  {label:<30} load {f['load_s']:4.1f} s, round {f['round_s']:.2f} s, {f['ok']:,} ok; RSS after load "
                f"{f['rss_loaded_mb']:.0f} MB, after round {f['rss_end_mb']:.0f} MB, peak {f['rss_peak_mb']:.0f} MB",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
