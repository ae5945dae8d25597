"""Exporter cost at scale: 10,000 devices × 6 fields per 60 s round into VictoriaMetrics.

Run by hand (needs the ``victoria-metrics`` binary; the ICMP reference round needs root)::

    python bench/export.py [--devices 10000] [--rounds 5] [--no-icmp]

Prints, per round: the time ``on_round`` takes (what a round waits for the exporter), the
exporter's CPU by phase (encode, gzip, spool insert, HTTP send; thread CPU time), the time until
VictoriaMetrics accepted the round, and ratios against the round's own CPU measured in the same
run: a real ICMP round over 10,000 loopback addresses (collector + debounce + store write) and
the store write alone. Then the outage path (spool only, disk per round, replay rate) and one
Prometheus scrape of the same fleet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.runtime import Agent, RoundResult  # noqa: E402
from core.model import Sample  # noqa: E402
from exporters.hooks import ExporterHub  # noqa: E402
from inventory.config import config_from_data  # noqa: E402

INTERVAL = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Victoria:
    def __init__(self, data: Path) -> None:
        binary = shutil.which("victoria-metrics")
        if binary is None:
            sys.exit("bench/export.py: victoria-metrics is not installed (apt-get install victoria-metrics)")
        self.binary, self.data, self.port = binary, data, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.data}", "-loggerLevel=ERROR"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=0.5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        sys.exit("victoria-metrics did not start")

    def cpu(self) -> float:
        """CPU seconds the VictoriaMetrics process used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def inventory(devices: int, data_dir: Path, exporters: dict[str, Any]) -> Any:
    groups = max(1, devices // 100)
    return config_from_data({
        "agent": {"id": "bench", "data_dir": str(data_dir)},
        "units": [{"id": f"u{u}"} for u in range(10)],
        "systems": [{"id": f"s{u}", "unit": f"u{u}"} for u in range(10)],
        "groups": [
            {"id": f"g{g}", "unit": f"u{g % 10}", "system": f"s{g % 10}", "kind": "camera", "online_rate": {"threshold": 0.95}}
            for g in range(groups)
        ],
        "devices": [
            {"id": f"cam-{i:05d}", "group": f"g{i % groups}", "address": f"127.{1 + i // 65536}.{i // 256 % 256}.{i % 256 or 1}",
             "probes": {"icmp": {"count": 3, "timeout": 1}}}
            for i in range(devices)
        ],
        "exporters": exporters,
    })


def synthetic_round(devices: int, ts: float) -> list[Sample]:
    """up + 5 metrics = 6 fields per device, like an ICMP burst's figures (random, as real RTTs are)."""
    rng = random.Random(ts)
    samples = []
    for i in range(devices):
        rtts = sorted(rng.uniform(0.0005, 0.040) for _ in range(3))
        samples.append(Sample(
            f"cam-{i:05d}", "icmp", i % 50 != 0, ts + rng.uniform(0, 5),
            {"rtt_seconds": sum(rtts) / 3, "loss_percent": rng.choice((0.0, 0.0, 0.0, 33.33333333333333)),
             "rtt_min_seconds": rtts[0], "rtt_max_seconds": rtts[2], "jitter_seconds": rtts[2] - rtts[0]},
        ))
    return samples


class LagProbe:
    """How late the event loop wakes from a 1 ms sleep: what a collector timing replies would see."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            self.lags.append(time.perf_counter() - start - 0.001)

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        return max(self.lags, default=0.0)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return bytes(response.read())


def hub_of(agent: Agent) -> ExporterHub:
    return next(c for c in agent.components if isinstance(c, ExporterHub))


async def reference(devices: int, workdir: Path, icmp: bool) -> dict[str, float]:
    """The round's own CPU without any exporter: a real ICMP round, and the store write alone."""
    figures: dict[str, float] = {}
    agent = Agent(inventory(devices, workdir / "ref", {}))
    await agent.start(schedule=False)
    try:
        if icmp:
            cpu, wall = [], []
            for _ in range(2):
                c0, w0 = time.process_time(), time.perf_counter()
                await agent.run_round(("icmp", INTERVAL))
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
            figures["icmp_round_cpu"] = min(cpu)
            figures["icmp_round_wall"] = min(wall)
        samples = synthetic_round(devices, time.time() - 3600)
        c0 = time.process_time()
        agent.tracker.observe(samples)
        figures["debounce_cpu"] = time.process_time() - c0
        c0 = time.process_time()
        agent.db.write_samples(samples)
        figures["store_write_cpu"] = time.process_time() - c0
    finally:
        await agent.drain()
    return figures


async def wait_until(check: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("exporter did not deliver in time")
        await asyncio.sleep(0.002)


async def exporter_rounds(devices: int, rounds: int, workdir: Path, vm: Victoria, gzip_level: int) -> dict[str, Any]:
    prom_port = free_port()
    agent = Agent(inventory(devices, workdir / f"exp-{gzip_level}", {
        "influxdb": {"flavor": "victoriametrics", "url": vm.url, "gzip_level": gzip_level, "backoff_initial": 0.2,
                     "backoff_max": 1.0},
        "prometheus": {"listen": f"127.0.0.1:{prom_port}"},
    }))
    await agent.start(schedule=False)
    hub = hub_of(agent)
    exp = hub.running["influxdb"]
    base = time.time() - 3 * 3600
    figures: dict[str, Any] = {"submit_us": [], "cpu": [], "deliver": [], "process_cpu": [], "vm_cpu": [], "phases": [],
                               "lag": []}
    try:
        idle = LagProbe()
        idle.start()
        await asyncio.sleep(1.0)
        figures["lag_idle"] = await idle.stop()
        for k in range(rounds):
            samples = synthetic_round(devices, base + INTERVAL * k)
            result = RoundResult("icmp", INTERVAL, samples[0].ts, time.time(), samples, [])
            sent_before, cpu_before = exp.status().sent_points, dict(exp.cpu)
            vm_before, process_before = vm.cpu(), time.process_time()
            lag = LagProbe()
            lag.start()
            t0 = time.perf_counter()
            await hub.on_round(result)
            figures["submit_us"].append((time.perf_counter() - t0) * 1e6)
            await wait_until(lambda s=sent_before: exp.status().sent_points >= s + devices and exp.status().spool_points == 0)
            figures["deliver"].append(time.perf_counter() - t0)
            figures["lag"].append(await lag.stop())
            figures["process_cpu"].append(time.process_time() - process_before)
            await asyncio.sleep(0.3)  # let VictoriaMetrics finish its part before reading its CPU
            figures["vm_cpu"].append(vm.cpu() - vm_before)
            phases = {p: exp.cpu[p] - cpu_before.get(p, 0.0) for p in exp.cpu}
            figures["phases"].append(phases)
            figures["cpu"].append(sum(phases.values()))

        # a Prometheus scrape of the same fleet
        url = f"http://127.0.0.1:{prom_port}/metrics"
        lag = LagProbe()
        lag.start()
        t0, c0 = time.perf_counter(), time.process_time()
        body = await asyncio.to_thread(fetch, url)
        figures["scrape"] = (time.perf_counter() - t0, time.process_time() - c0, len(body))
        figures["scrape_lag"] = await lag.stop()
        prom = hub.running["prometheus"]
        prom.settings = prom.settings.model_copy(update={"generic_metrics": False})
        t0 = time.perf_counter()
        body = await asyncio.to_thread(fetch, url)
        figures["scrape_lean"] = (time.perf_counter() - t0, len(body))

        # outage: the backend stops; rounds go to the spool only; then it returns
        vm.stop()
        db = Path(agent.inventory.data_dir) / "yunwei.db"
        size0 = db.stat().st_size + (db.with_name(db.name + "-wal").stat().st_size if db.with_name(db.name + "-wal").exists() else 0)
        outage_rounds, spool_cpu = 3, []
        for k in range(rounds, rounds + outage_rounds):
            samples = synthetic_round(devices, base + INTERVAL * k)
            before = dict(exp.cpu)
            spooled = exp.spooled_rounds
            await hub.on_round(RoundResult("icmp", INTERVAL, samples[0].ts, time.time(), samples, []))
            await wait_until(lambda s=spooled: exp.spooled_rounds > s)
            spool_cpu.append(sum(exp.cpu[p] - before.get(p, 0.0) for p in ("encode", "compress", "spool")))
        spooled_points = exp.status().spool_points
        figures["outage_spool_cpu"] = statistics.median(spool_cpu)
        figures["outage_spool_points"] = spooled_points
        figures["outage_spool_row_bytes"] = _spool_bytes(agent) / outage_rounds
        figures["db_growth"] = db.stat().st_size - size0
        vm.start()
        t0 = time.perf_counter()
        await wait_until(lambda: exp.status().spool_points == 0, timeout=300)
        figures["replay"] = (spooled_points, time.perf_counter() - t0)
    finally:
        await agent.drain()
    return figures


def _spool_bytes(agent: Agent) -> float:
    with agent.db.transaction() as db:
        return float(db.execute("SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM exporter_spool").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-icmp", action="store_true", help="skip the real ICMP reference round")
    parser.add_argument("--gzip-level", type=int, default=1)
    args = parser.parse_args()
    icmp = not args.no_icmp and os.geteuid() == 0

    with tempfile.TemporaryDirectory(prefix="yunwei-bench-export-") as tmp:
        workdir = Path(tmp)
        print(f"{args.devices} devices × 6 fields, {args.rounds} rounds, gzip level {args.gzip_level}; 2-core host")
        ref = asyncio.run(reference(args.devices, workdir, icmp))
        vm = Victoria(workdir / "vm")
        vm.start()
        try:
            figures = asyncio.run(exporter_rounds(args.devices, args.rounds, workdir, vm, args.gzip_level))
        finally:
            vm.stop()

    med = statistics.median
    cpu = med(figures["cpu"])
    print("\nround's own work (no exporter), same run:")
    if "icmp_round_cpu" in ref:
        print(f"  real ICMP round, {args.devices} loopback targets × 3 echoes (collector + debounce + store): "
              f"{ref['icmp_round_cpu']:.3f} s CPU, {ref['icmp_round_wall']:.1f} s wall")
    print(f"  debounce of the round:                 {ref['debounce_cpu'] * 1000:.1f} ms CPU")
    print(f"  store write of the round:              {ref['store_write_cpu'] * 1000:.1f} ms CPU")
    print("\nexporter, per round (median of rounds):")
    print(f"  on_round (added round latency):        {med(figures['submit_us']):.1f} µs (max {max(figures['submit_us']):.1f} µs)")
    for phase in ("encode", "compress", "spool", "send"):
        print(f"    {phase:<8} {med(p.get(phase, 0.0) for p in figures['phases']) * 1000:8.1f} ms thread CPU")
    print(f"  exporter CPU total:                    {cpu * 1000:.1f} ms")
    print(f"  whole process CPU while delivering:    {med(figures['process_cpu']) * 1000:.1f} ms")
    print(f"  accepted by VictoriaMetrics after:     {med(figures['deliver']) * 1000:.0f} ms")
    print(f"  event-loop lag while exporting:        max {med(figures['lag']) * 1000:.1f} ms "
          f"(idle: max {figures['lag_idle'] * 1000:.1f} ms)")
    print(f"  VictoriaMetrics' own CPU to ingest:    {med(figures['vm_cpu']) * 1000:.0f} ms")
    print("\nratios:")
    if "icmp_round_cpu" in ref:
        own = ref["icmp_round_cpu"]
        print(f"  exporter CPU / ICMP round CPU:         {cpu / own:.1%}  (target < 10 %)")
    print(f"  exporter CPU / store write CPU:        {cpu / ref['store_write_cpu']:.0%}")
    print(f"  exporter CPU / 60 s interval:          {cpu / INTERVAL:.2%} of one core")
    print(f"  spool-first share (insert, read, delete): "
          f"{med(p.get('spool', 0.0) for p in figures['phases']) / cpu:.0%} of the exporter's CPU")
    print("\nbackend down:")
    print(f"  CPU to spool one round:                {figures['outage_spool_cpu'] * 1000:.1f} ms")
    print(f"  spool payload per round:               {figures['outage_spool_row_bytes'] / 1e3:.0f} kB "
          f"({figures['outage_spool_row_bytes'] / args.devices:.0f} B per device-line, gzip)")
    points, seconds = figures["replay"]
    print(f"  replay after the backend returned:     {points} points in {seconds:.2f} s ({points / seconds:,.0f} points/s)")
    wall, scrape_cpu, size = figures["scrape"]
    print(f"\nPrometheus /metrics of {args.devices} devices: {wall * 1000:.0f} ms, {size / 1e6:.1f} MB;"
          f" with generic_metrics: false {figures['scrape_lean'][0] * 1000:.0f} ms, {figures['scrape_lean'][1] / 1e6:.1f} MB;"
          f" event-loop lag during the scrape: max {figures['scrape_lag'] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
