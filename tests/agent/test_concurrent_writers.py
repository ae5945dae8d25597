"""Everyone who writes the store at once loses nothing: the daemon's rounds (samples, transitions,
probe states), alerting (faults, outbox), the InfluxDB spool, and ``yunwei record`` run beside
the daemon in another process, as an engineer on the jump host does."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import yaml
from peers import free_port

from agent.runtime import Agent
from inventory.config import load_config

ROUNDS = 12
RECORDS = 15
DEVICES = 40


def config(tmp_path: Path, open_port: int) -> Path:
    closed = free_port()
    data = {
        "agent": {"id": "site-a", "data_dir": str(tmp_path / "data"), "debounce": {"down_after": 1, "up_after": 1,
                                                                                    "retry_seconds": 0}},
        "units": [{"id": "gaj", "name": "市公安局"}],
        "devices": [
            {"id": f"cam-{i}", "unit": "gaj", "address": "127.0.0.1", "kind": "camera",
             "probes": {"tcp": {"port": open_port if i % 2 else closed, "timeout": 5}}}
            for i in range(DEVICES)
        ],
        "alerting": {"hold_seconds": 0, "channels": {"ops": {"type": "webhook", "url": f"http://127.0.0.1:{free_port()}/x"}},
                     "routes": [{"channels": ["ops"]}]},
        "exporters": {"influxdb": {"url": f"http://127.0.0.1:{free_port()}", "org": "o", "bucket": "b", "token": "t"}},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def test_rounds_alerting_spool_and_cli_records_written_at_once_lose_nothing(tmp_path: Path) -> None:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    path = config(tmp_path, server.sockets[0].getsockname()[1])
    agent = Agent(load_config(path))
    await agent.start(schedule=False)

    def records() -> list[int]:
        codes = []
        for n in range(RECORDS):  # each a process of its own, its own connection, beside the daemon
            codes.append(subprocess.run(
                [sys.executable, "-m", "cli.main", "record", "visit", "-c", str(path), "--unit", "gaj", "--id", f"v-{n}",
                 "--note", f"第 {n} 次回访"],
                capture_output=True, text=True, timeout=60,
            ).returncode)
        return codes

    try:
        cli = asyncio.create_task(asyncio.to_thread(records))
        rounds = 0
        while rounds < ROUNDS or not cli.done():  # rounds go on for as long as the CLI writes
            await agent.run_all_once()
            rounds += 1
        codes = await cli
        db = agent.db.db
        samples = db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        transitions = db.execute("SELECT device, COUNT(*) FROM transitions GROUP BY device").fetchall()
        visits = db.execute("SELECT COUNT(*) FROM ledger WHERE type = 'record' AND uid LIKE 'record:visit:%'").fetchone()[0]
        faults = db.execute("SELECT COUNT(*) FROM ledger WHERE type = 'fault'").fetchone()[0]
        outbox = db.execute("SELECT COUNT(*) FROM alert_outbox").fetchone()[0]
        spooled = db.execute("SELECT COUNT(*) FROM exporter_spool").fetchone()[0]
    finally:
        await agent.drain(10)
        server.close()
        await server.wait_closed()
    assert codes == [0] * RECORDS
    assert samples == rounds * DEVICES  # every round's every sample
    assert visits == RECORDS  # every record the CLI wrote beside the daemon
    assert all(count == 1 for _, count in transitions) and len(transitions) == DEVICES  # each device once: up or down
    assert faults == DEVICES // 2  # one fault per closed camera, none twice
    assert outbox >= 1 and spooled >= 1  # chat and InfluxDB queued durably while their peers are down
