"""``yunwei demo``: the real agent against a simulated fleet; outages are seen, flaps are not."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def test_demo_shows_outages_recoveries_and_the_status_table(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "demo", "--seconds", "14", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "分组在线率 (当前):" in table
    rows = {line.split()[2]: line for line in table.splitlines() if line.startswith("demo-unit")}
    assert " 中断 " in rows["portal-2"] and "HTTP 状态码 500" in rows["portal-2"]  # failed mid-demo, still down
    for server in ("srv-03", "srv-04", "srv-05"):
        assert " 正常 " in rows[server]  # went down for a while and came back
    log = result.stderr
    assert re.search(r"服务器 03 (up|unknown) → down", log) and "服务器 03 down → up" in log
    assert "服务器 08 up → down" not in log  # it flaps faster than the debounce: never an outage
    # the demo ends with the month's score from what the agent recorded, and keeps what it made
    assert re.search(r"Contract \(demo contract, \d{4}-\d{2} so far\): demo \d{4}-\d{2}: score [\d.]+", table)
    assert "日常工作     0.00/30.00" in table  # no visit or inspection was recorded in the demo
    assert list(tmp_path.glob("demo-report-*.html"))
    status = subprocess.run(
        [sys.executable, "-m", "cli.main", "status", "-c", str(tmp_path / "demo-config.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0 and "portal-2" in status.stdout


def test_the_demo_ends_naming_a_kept_folder_and_a_yunwei_that_runs(tmp_path: Path) -> None:
    from demo.fleet import afterwards, yunwei_command

    text = afterwards(tmp_path)
    command = yunwei_command()
    assert f"kept in {tmp_path}" in text and f"{command} status -c {tmp_path / 'demo-config.yaml'}" in text
    done = subprocess.run([*command.split(), "--help"], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})  # a shell without the venv activated
    assert done.returncode == 0 and "status" in done.stdout
