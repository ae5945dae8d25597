"""How big the store grows: bytes per device per day, and the size at the default 14-day retention.

    .venv/bin/python bench/store_size.py [--devices 1000] [--rounds 60]

Writes ``--rounds`` rounds of realistic samples (what the icmp and the snmp collectors put in a
Sample: an ICMP device's 7 metrics; an SNMP switch's system group and 4 interfaces) for
``--devices`` devices through the agent's own store (``Store.write_samples``, WAL, the same
indexes), measures the database's growth per sample, and extrapolates to the issue's fleets:
10,000 ICMP devices and 2,000 SNMP devices at one sample a minute for 14 days. The goal
(issue "One truth of the fleet's state", item 4): under 2 GB at 14 days for 10,000 ICMP
devices, rollups included. Also times one batched prune of a day's worth of rows.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.model import Sample  # noqa: E402
from store.db import open_store  # noqa: E402

PER_DAY = 1440  # one sample a minute
DAYS = 14


def icmp(device: str, ts: float) -> Sample:
    rtt = random.uniform(0.0004, 0.02)
    return Sample(device, "icmp", True, ts, {
        "loss_percent": 0.0, "sent": 3.0, "received": 3.0, "rtt_seconds": rtt,
        "rtt_min_seconds": rtt * 0.8, "rtt_max_seconds": rtt * 1.3, "jitter_seconds": rtt * 0.1,
    })


def snmp(device: str, ts: float) -> Sample:
    metrics = {"uptime_seconds": 3_000_000.0 + ts % 86400, "rtt_seconds": random.uniform(0.001, 0.01),
               "interfaces_down": 0.0}
    for name in ("GE0/0/1", "GE0/0/2", "GE0/0/3", "GE0/0/24"):
        for key in ("in_bps", "out_bps", "in_util_percent", "out_util_percent", "in_errors", "out_errors", "oper_up"):
            metrics[f"if.{name}.{key}"] = random.uniform(0, 1e8) if key.endswith("bps") else random.uniform(0, 100)
    return Sample(device, "snmp", True, ts, metrics, info={"sysName": device, "sysDescr": "Huawei S5735"})


def grow(make, devices: int, rounds: int) -> tuple[float, float]:
    """(bytes per sample, seconds to prune a day's worth of rows in batches)."""
    with tempfile.TemporaryDirectory() as data:
        store = open_store(data)
        path = Path(data) / "yunwei.db"
        base = time.time() - rounds * 60
        store.write_samples([make(f"d{i}", base - 120) for i in range(devices)])  # the latest rows exist
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size
        for r in range(rounds):
            store.write_samples([make(f"d{i}", base + r * 60) for i in range(devices)])
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        per_sample = (path.stat().st_size - before) / (devices * rounds)
        started = time.perf_counter()
        store.prune_samples(base + rounds * 30)  # half of what was written
        pruned = time.perf_counter() - started
        store.close()
    return per_sample, pruned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    print(f"sqlite {sqlite3.sqlite_version}; {args.devices} devices × {args.rounds} rounds per kind")
    for kind, make, fleet in (("ICMP", icmp, 10_000), ("SNMP", snmp, 2_000)):
        per_sample, pruned = grow(make, args.devices, args.rounds)
        per_device_day = per_sample * PER_DAY
        day = per_device_day * fleet
        print(f"{kind}: {per_sample:,.0f} B a sample, {per_device_day / 1e6:,.2f} MB a device a day; "
              f"{fleet:,} devices: {day / 1e9:,.2f} GB a day, {day * DAYS / 1e9:,.1f} GB at {DAYS} days; "
              f"prune of {args.devices * args.rounds // 2:,} rows: {pruned:.2f} s")
    icmp_14 = grow(icmp, args.devices, args.rounds)[0] * PER_DAY * 10_000 * DAYS
    print(f"goal: 10,000 ICMP devices under 2 GB at {DAYS} days; now {icmp_14 / 1e9:,.1f} GB "
          f"(ratio {icmp_14 / 2e9:,.1f}×; compact rows and rollups are not built yet)")


if __name__ == "__main__":
    main()
