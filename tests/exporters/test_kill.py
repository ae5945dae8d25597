"""The agent killed with SIGKILL while it spools: after a restart nothing that was spooled is missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from exporters_support import Victoria, inventory_data, series_by

HARNESS = Path(__file__).with_name("kill_harness.py")
REPO = Path(__file__).parents[2]


def test_sigkill_during_spooling_loses_nothing_spooled(tmp_path: Path) -> None:
    vm = Victoria(tmp_path)  # not started yet: the backend is down while the agent spools
    data = inventory_data(tmp_path, 50, {"influxdb": {
        "flavor": "victoriametrics", "url": vm.url, "backoff_initial": 0.05, "backoff_max": 0.2, "batch_size": 70,
    }})
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    base = time.time() - 7200
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    agent = subprocess.Popen(
        [sys.executable, str(HARNESS), "produce", str(config), str(base)],
        stdout=subprocess.PIPE, stderr=open(tmp_path / "produce.log", "wb"), env=env, text=True,  # noqa: SIM115
    )
    last = -1
    assert agent.stdout is not None
    deadline = time.monotonic() + 30
    while last < 25 and time.monotonic() < deadline:
        line = agent.stdout.readline()
        assert line, f"harness died: {(tmp_path / 'produce.log').read_text()[-2000:]}"
        last = int(line.split()[1])
    agent.send_signal(signal.SIGKILL)  # mid-stream: the next round is being handed over and spooled
    agent.wait(10)
    assert last >= 25

    vm.start()
    try:
        replay = subprocess.run(
            [sys.executable, str(HARNESS), "replay", str(config)],
            capture_output=True, env=env, text=True, timeout=60,
        )
        assert replay.returncode == 0, replay.stderr[-2000:]
        assert replay.stdout.startswith("spool 0 "), replay.stdout
        assert int(replay.stdout.split()[3]) >= (last + 1) * 50  # the replay really sent the spooled rounds
        rows = series_by(vm.export('{__name__="yunwei_round"}'), "device")
    finally:
        vm.stop()
    assert len(rows) == 50
    for (_, device), series in rows.items():
        rounds = series["values"]
        assert rounds == sorted(set(rounds)), f"{device}: a round written twice"
        assert set(range(last + 1)) <= set(rounds), f"{device}: spooled rounds missing: {set(range(last + 1)) - set(rounds)}"
        stamps = [int(round((base + 60 * k) * 1000)) for k in rounds]
        assert series["timestamps"] == stamps
