"""How big the store grows: bytes per device per day, and the size at the default 14-day retention.

    .venv/bin/python bench/store_size.py [--devices 40] [--days 14] [--rows]

Writes ``--days`` days of rounds (one sample a minute) for ``--devices`` ICMP devices and as
many SNMP switches through the agent's own store, running the agent's housekeeping step
(``SampleStore.compact``: sealed hours into chunks and 5-minute rollups, sealed days folded)
every 10 simulated minutes as the agent does. The database's pages in use at the end (the
newest hour still in rows, today's hours in hourly chunks, older days in day chunks, all
rollups) are the 14-day size of that fleet; the store's cost is linear in devices, so it is
scaled to the issue's fleets: 10,000 ICMP devices and 2,000 SNMP devices. The year line is
the rollups alone (kept for the contract's life) at 365 days. Reference (``--rows``): the JSON
rows every sample was stored as before, measured on one hour of the same samples.

The samples are what the collectors put in a Sample (an ICMP device's 7 metrics; an SNMP
switch's system group and 4 interfaces with 7 metrics each), with the values a real device
gives: a steady RTT per device with a few percent of jitter, traffic that drifts, counters
that rarely move. (Independent random values in every sample, which no device produces, would
compress about half as well.)
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.model import Sample  # noqa: E402
from store.db import open_store  # noqa: E402

PER_DAY = 1440  # one sample a minute
DAYS = 14
GOAL = 2e9
START = 1_767_225_600.0  # on the hour


class Icmp:
    def __init__(self, index: int) -> None:
        self.base = random.uniform(0.0004, 0.02)
        self.offset = random.uniform(0, 5)

    def sample(self, device: str, ts: float) -> Sample:
        if random.random() < 0.005:
            return Sample(device, "icmp", False, ts + self.offset, {"loss_percent": 100.0, "sent": 3.0, "received": 0.0},
                          error="no echo reply within 1 s")
        rtt = self.base * random.gauss(1.0, 0.05)
        return Sample(device, "icmp", True, ts + self.offset + random.uniform(0, 0.05), {
            "loss_percent": 0.0, "sent": 3.0, "received": 3.0, "rtt_seconds": rtt,
            "rtt_min_seconds": rtt * random.uniform(0.85, 0.97), "rtt_max_seconds": rtt * random.uniform(1.03, 1.3),
            "jitter_seconds": abs(random.gauss(0, 0.03 * rtt)),
        })


class Snmp:
    PORTS = ("GE0/0/1", "GE0/0/2", "GE0/0/3", "GE0/0/24")

    def __init__(self, index: int) -> None:
        self.offset = random.uniform(0, 5)
        self.rtt = random.uniform(0.001, 0.01)
        self.rates = {port: [random.uniform(1e5, 3e8), random.uniform(1e5, 3e8)] for port in self.PORTS}

    def sample(self, device: str, ts: float) -> Sample:
        metrics = {"uptime_seconds": 3_000_000.0 + ts - START, "rtt_seconds": self.rtt * random.gauss(1.0, 0.05),
                   "interfaces_down": 0.0}
        for port, rates in self.rates.items():
            for i in (0, 1):
                rates[i] = max(0.0, rates[i] * random.gauss(1.0, 0.05))
            metrics[f"if.{port}.in_bps"], metrics[f"if.{port}.out_bps"] = round(rates[0]), round(rates[1])
            metrics[f"if.{port}.in_util_percent"] = rates[0] / 1e7
            metrics[f"if.{port}.out_util_percent"] = rates[1] / 1e7
            metrics[f"if.{port}.in_errors"] = float(random.random() < 0.01)
            metrics[f"if.{port}.out_errors"] = 0.0
            metrics[f"if.{port}.oper_up"] = 1.0
        return Sample(device, "snmp", True, ts + self.offset, metrics, info={"sysName": device, "sysDescr": "Huawei S5735"})


def written_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def grow(kind: Callable[[int], Icmp | Snmp], devices: int, minutes: int, compact: bool) -> dict[str, float]:
    random.seed(7)
    fleet = {f"d{i}": kind(i) for i in range(devices)}
    with tempfile.TemporaryDirectory() as data:
        store = open_store(data)
        disk_before = written_bytes()
        started = time.perf_counter()
        moving = 0.0
        for minute in range(minutes):
            now = START + minute * 60
            store.write_samples([probe.sample(device, now) for device, probe in fleet.items()])
            if compact and minute % 10 == 9:  # the agent's housekeeping runs every 10 minutes
                began = time.process_time()  # CPU, not wall: other jobs on the machine do not count
                while store.samples.compact(now + 59):
                    pass
                moving += time.process_time() - began
        elapsed = time.perf_counter() - started
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size, pages, free = (store.db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count", "freelist_count"))
        rollups = sum(row[0] for row in store.db.execute(
            "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'sample_rollups%'"))
        store.close()
    samples = devices * minutes
    return {
        "bytes": (pages - free) * page_size,
        "per_sample": (pages - free) * page_size / samples,
        "rollups_per_device_day": rollups / devices / (minutes / PER_DAY),
        "disk_per_sample": (written_bytes() - disk_before) / samples,
        "write_seconds": elapsed,
        "compact_seconds": moving,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=40)
    parser.add_argument("--days", type=float, default=DAYS)
    parser.add_argument("--rows", action="store_true", help="also measure the old one-JSON-row-per-sample form")
    args = parser.parse_args()
    minutes = round(args.days * PER_DAY)
    print(f"sqlite {sqlite3.sqlite_version}; {args.devices} devices × {args.days:g} days of one sample a minute, per kind")
    icmp_total = 0.0
    for name, kind, fleet in (("ICMP", Icmp, 10_000), ("SNMP", Snmp, 2_000)):
        rows = grow(kind, args.devices, 60, compact=False) if args.rows else None
        got = grow(kind, args.devices, minutes, compact=True)
        total = got["bytes"] / args.devices * fleet
        year_rollups = got["rollups_per_device_day"] * 365 * fleet
        if name == "ICMP":
            icmp_total = total
        against = f" (JSON rows: {rows['per_sample']:,.0f} B, {rows['per_sample'] / got['per_sample']:.0f}×)" if rows else ""
        print(f"{name}: {got['per_sample']:,.1f} B a sample{against}, {got['per_sample'] * PER_DAY / 1e3:,.1f} kB a device a day; "
              f"{fleet:,} devices at {args.days:g} days: {total / 1e9:,.2f} GB; their rollups for a year: "
              f"{year_rollups / 1e9:,.1f} GB; disk writes {got['disk_per_sample']:,.0f} B a sample; housekeeping "
              f"{got['compact_seconds'] / (args.devices * minutes / 60) * 1e3:.2f} ms of CPU a device-hour")
    print(f"goal: 10,000 ICMP devices under {GOAL / 1e9:.0f} GB at {DAYS} days, rollups included: "
          f"{icmp_total / 1e9:,.2f} GB at {args.days:g} days ({icmp_total / GOAL:.2f}× the goal)")


if __name__ == "__main__":
    main()
