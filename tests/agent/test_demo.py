"""``yunwei demo``: the real agent against a simulated fleet; outages are seen, flaps are not."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def test_demo_shows_outages_recoveries_and_the_status_table(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "demo", "--seconds", "14", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "Group online rates (now):" in table
    rows = {line.split()[2]: line for line in table.splitlines() if line.startswith("demo-unit")}
    assert "DOWN" in rows["portal-2"] and "HTTP 500" in rows["portal-2"]  # failed mid-demo, still down
    for server in ("srv-03", "srv-04", "srv-05"):
        assert " UP " in rows[server]  # went down for a while and came back
    log = result.stderr
    assert re.search(r"服务器 03 (up|unknown) → down", log) and "服务器 03 down → up" in log
    assert "服务器 08 up → down" not in log  # it flaps faster than the debounce: never an outage
    # the demo ends with the month's score from what the agent recorded, and keeps what it made
    assert re.search(r"Contract \(demo contract, \d{4}-\d{2} so far\): demo \d{4}-\d{2}: score [\d.]+", table)
    assert "日常工作     0.00/30.00" in table  # no visit or inspection was recorded in the demo
    assert list(tmp_path.glob("demo-report-*.html"))
    status = subprocess.run(
        [sys.executable, "-m", "agent.cli", "status", "-c", str(tmp_path / "demo-config.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0 and "portal-2" in status.stdout
