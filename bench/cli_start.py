"""How fast the commands that only read the store (or print help) start, at 10,000 devices.

    .venv/bin/python bench/cli_start.py [--devices 10000] [--runs 7]

Builds a config with ``--devices`` devices (cameras in groups of 500 under 20 units, each
with a TCP probe; alerting with one channel) and a store holding every device's state and
50 faults, then times whole processes with ``farm-bench`` (start to exit, start-up included):
``yunwei --help``, ``yunwei status``, ``yunwei faults list``. The reference is ``sqlite3``
answering the same question from the same store (the states by group; the open faults):
what the command cannot do faster than. Prints the median seconds and the ratio to it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.model import State, Transition  # noqa: E402
from store.db import open_store  # noqa: E402
from store.faults import Fault, FaultStore  # noqa: E402

GROUP_SIZE = 500


def fleet(devices: int, data_dir: Path) -> dict:
    groups = devices // GROUP_SIZE + (1 if devices % GROUP_SIZE else 0)
    return {
        "agent": {"data_dir": str(data_dir)},
        "units": [{"id": f"u{u}", "name": f"单位{u}"} for u in range(20)],
        "groups": [
            {"id": f"g{g}", "name": f"摄像机组{g}", "unit": f"u{g % 20}", "kind": "camera", "online_rate": {"threshold": 0.95}}
            for g in range(groups)
        ],
        "defaults": {"probes": {"tcp": {"port": 554}}},
        "devices": [
            {"id": f"cam-{i:05d}", "name": f"路口-{i:05d}", "group": f"g{i // GROUP_SIZE}", "address": f"10.{i // 62500}.{i // 250 % 250}.{i % 250 + 1}"}
            for i in range(devices)
        ],
        "alerting": {"channels": {"ops": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}}, "routes": [{"channels": ["ops"]}]},
    }


def build(folder: Path, devices: int) -> Path:
    data_dir = folder / "data"
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(fleet(devices, data_dir), allow_unicode=True, sort_keys=False), encoding="utf-8")
    now = time.time()
    with open_store(data_dir) as store:
        store.add_transitions(
            [Transition(f"cam-{i:05d}", now - 3600, State.DOWN if i % 97 == 0 else State.UP, State.UNKNOWN, "") for i in range(devices)],
            agent="bench",
        )
        faults = FaultStore(store, "bench")
        for i in range(0, min(devices, 50 * 97), 97):
            faults.open(
                Fault(id="", key=f"down:cam-{i:05d}", rkey=f"down:cam-{i:05d}", source="down", state="open", level=3,
                      cause="connection refused", opened=now - 3000, respond_by=now + 3600, resolve_by=now + 86400,
                      device=f"cam-{i:05d}", group=f"g{i // GROUP_SIZE}"),
                now,
            )
    return config


def medians(command: list[str], runs: int) -> tuple[float, float]:
    """farm-bench's median wall and cpu (user + system) seconds for the whole process."""
    out = subprocess.run(
        ["farm-bench", "-n", str(runs), "--timeout", "300", "--", *command], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for what in ("wall", "cpu"):
        match = re.search(rf"^A {what} s\s+([\d.]+)\s+([\d.]+)", out, re.MULTILINE)
        if match is None:
            raise SystemExit(f"cannot read farm-bench's output:\n{out}")
        found[what] = float(match.group(2))
    return found["wall"], found["cpu"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("farm-bench") is None or shutil.which("sqlite3") is None:
        raise SystemExit("needs farm-bench and sqlite3 on PATH")
    yunwei = str(Path(sys.executable).with_name("yunwei"))
    with tempfile.TemporaryDirectory() as tmp:
        config = build(Path(tmp), args.devices)
        subprocess.run([yunwei, "check", "-c", str(config)], check=True, capture_output=True)  # as on site: checked once
        db = str(next((Path(tmp) / "data").glob("*.db")))
        status_sql = "SELECT device, state, MAX(at) FROM transitions GROUP BY device;"
        faults_sql = "SELECT id, level, device, cause, opened FROM alert_faults WHERE state IN ('open','acknowledged') ORDER BY seq;"
        cases = [
            ("yunwei --help", [yunwei, "--help"], ["sqlite3", db, "SELECT 1;"]),
            ("yunwei status", [yunwei, "status", "-c", str(config)], ["sqlite3", db, status_sql]),
            ("yunwei faults list", [yunwei, "faults", "list", "-c", str(config)], ["sqlite3", db, faults_sql]),
        ]
        print(f"{args.devices} devices, medians of {args.runs} runs (farm-bench, whole process; the machine's load moves wall)")
        print(f"{'command':<20}{'wall s':>8}{'cpu s':>8}{'sqlite3 wall':>14}{'ratio':>7}")
        for name, command, reference in cases:
            (wall, cpu), (theirs, _) = medians(command, args.runs), medians(reference, args.runs)
            print(f"{name:<20}{wall:>8.3f}{cpu:>8.3f}{theirs:>14.3f}{wall / theirs:>7.0f}")

if __name__ == "__main__":
    main()
