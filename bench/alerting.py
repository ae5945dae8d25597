"""Alerting at scale: how long the engine takes per round and tick, and how fast the outbox sends.

    /tmp/venv/bin/python bench/alerting.py [--devices 10000]

Fleet: 20 lines, each → 5 switches → N cameras (groups of ~500 with a 95 % target). Figures:
- a quiet reconcile (nothing down) — what every round and every tick cost;
- a line failing with all its devices behind it (one round with ~500 transitions, then the
  hold expiring): time, faults opened, messages queued;
- the same number of cameras failing independently (a storm): faults and messages;
- outbox delivery to a loopback DingTalk stand-in (signing, HTTP, marking), messages/s,
  against a bare urllib POST loop to the same server (the reference: our overhead per message).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "alerting"))

from alerting_platforms import Platform  # noqa: E402

from alerting.service import AlertingService  # noqa: E402
from core.model import State, Transition  # noqa: E402
from inventory.config import config_from_data  # noqa: E402
from store.db import Store  # noqa: E402


def fleet(devices: int, url: str) -> dict:
    lines, switches_per_line = 20, 5
    cameras_per_switch = max(1, (devices - lines * (1 + switches_per_line)) // (lines * switches_per_line))
    entries, groups = [], []
    for line in range(lines):
        entries.append({"id": f"line-{line}", "kind": "line", "address": f"10.{line}.0.1", "system": "cams"})
        groups.append({"id": f"cams-{line}", "kind": "camera", "system": "cams", "online_rate": {"threshold": 0.95}})
        for switch in range(switches_per_line):
            entries.append({"id": f"sw-{line}-{switch}", "kind": "switch", "address": f"10.{line}.{switch + 1}.1", "parent": f"line-{line}", "system": "cams"})
            for camera in range(cameras_per_switch):
                entries.append({"id": f"cam-{line}-{switch}-{camera}", "group": f"cams-{line}", "address": f"10.{line}.{switch + 1}.{camera % 250 + 2}", "parent": f"sw-{line}-{switch}"})
    return {
        "agent": {"id": "bench"},
        "systems": [{"id": "cams", "name": "雪亮工程"}],
        "defaults": {"probes": {"tcp": {"port": 554}}},
        "groups": groups,
        "devices": entries,
        "alerting": {
            "hold_seconds": 30,
            "rules": [{"offline_ratio_min": 0.2, "level": 2}],
            "channels": {"ops": {"type": "dingtalk", "url": url, "secret": "SECbench", "rate_per_minute": 100000}},
            "routes": [{"channels": ["ops"]}],
        },
    }


def timed(label: str, function, *args) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    function(*args)
    elapsed = time.perf_counter() - started
    print(f"  {label:<52} {elapsed * 1000:9.1f} ms")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=10000)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    platform = Platform("dingtalk", "SECbench").start()
    with tempfile.TemporaryDirectory() as tmp:
        data = fleet(args.devices, platform.url)
        data["agent"]["data_dir"] = tmp
        inventory = config_from_data(data, source=f"{tmp}/bench.yaml")
        clock = [1.8e9]
        store = Store(Path(tmp) / "yunwei.db")
        service = AlertingService(store, inventory, lambda: clock[0])
        print(f"{len(inventory.devices)} devices, {len(inventory.groups)} groups")
        up = [Transition(d, clock[0] - 600, State.UP, State.UNKNOWN) for d in inventory.devices]
        service.engine.on_round([], up, clock[0])
        timed("quiet reconcile (all up)", service.tick)

        behind = [d for d in inventory.devices if d.startswith("cam-0-") or d.startswith("sw-0-")]
        transitions = [Transition("line-0", clock[0], State.DOWN, State.UP, "timeout")]
        transitions += [Transition(d, clock[0], State.DOWN, State.UP, "timeout") for d in behind]
        timed(f"round with a line + {len(behind)} devices behind it going down", service.on_round, [], transitions)
        clock[0] += 31
        timed("tick when the hold expires (opens the line fault)", service.tick)
        line_faults = len(service.faults.active())
        line_messages = store.db.execute("SELECT COUNT(*) FROM alert_outbox").fetchone()[0]
        print(f"  → {line_faults} fault(s), {line_messages} message(s) for {len(behind) + 1} devices down")

        storm = [d for d in inventory.devices if d.startswith("cam-1-")][: len(behind)]
        clock[0] += 60
        timed(f"round with {len(storm)} cameras of another line going down", service.on_round, [], [Transition(d, clock[0], State.DOWN, State.UP, "timeout") for d in storm])
        clock[0] += 31
        timed("tick when their hold expires", service.tick)
        faults = len(service.faults.active()) - line_faults
        messages = store.db.execute("SELECT COUNT(*) FROM alert_outbox").fetchone()[0] - line_messages
        print(f"  → {faults} fault(s), {messages} message(s) for {len(storm)} cameras down on their own")
        scattered = [d for d in inventory.devices if d.startswith("cam-") and d.endswith(("-0-1", "-2-1", "-4-1"))]
        scattered = [d for d in scattered if not d.startswith(("cam-0-", "cam-1-"))]
        clock[0] += 60
        before_faults = len(service.faults.active())
        before = store.db.execute("SELECT COUNT(*) FROM alert_outbox").fetchone()[0]
        timed(f"round with {len(scattered)} cameras down across {len(inventory.groups) - 2} groups", service.on_round, [], [Transition(d, clock[0], State.DOWN, State.UP, "timeout") for d in scattered])
        clock[0] += 31
        timed("tick when their hold expires", service.tick)
        print(f"  → {len(service.faults.active()) - before_faults} fault(s), "
              f"{store.db.execute('SELECT COUNT(*) FROM alert_outbox').fetchone()[0] - before} message(s) (one per group: storm grouping)")
        clock[0] += 5
        timed("steady tick with those faults open", service.tick)

        # outbox throughput against the reference: a bare POST loop to the same server
        payload = b'{"msgtype":"text","text":{"content":"x"}}'
        started = time.perf_counter()
        for _ in range(args.messages):
            request = urllib.request.Request(platform.url, data=payload, headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=5).read()
        bare = args.messages / (time.perf_counter() - started)
        with store.transaction() as db:
            db.execute("DELETE FROM alert_outbox")
            db.executemany(
                "INSERT INTO alert_outbox (channel, kind, created, payload, next_attempt) VALUES ('ops', 'open', 0, ?, 0)",
                [(json.dumps({"body": {"msgtype": "markdown", "markdown": {"title": f"t{i}", "text": "x"}}, "headers": {}}),) for i in range(args.messages)],
            )
        service.outbox.clock = time.time
        started = time.perf_counter()
        sent = service.outbox.deliver_due()
        ours = sent / (time.perf_counter() - started)
        print(f"  outbox delivery (sign, POST, check errcode, mark): {ours:7.0f} msg/s; bare urllib POST loop: {bare:7.0f} msg/s (ratio {ours / bare:.2f})")
        store.close()
    platform.stop()


if __name__ == "__main__":
    main()
