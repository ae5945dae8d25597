"""``yunwei demo`` serves the console: its address and a login are printed; in a terminal it
keeps serving after its run until Ctrl-C, then prints the status table as before."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def test_the_demo_in_a_terminal_serves_the_console_until_ctrl_c(tmp_path: Path) -> None:
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo", "--seconds", "6", "--data-dir", str(tmp_path)],
        stdin=slave, stderr=slave, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    os.close(slave)
    seen, deadline = "", time.monotonic() + 90
    try:
        while "press Ctrl-C" not in seen and time.monotonic() < deadline and process.poll() is None:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    seen += os.read(master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        found = re.search(r"web console: (http://127\.0\.0\.1:\d+)/  login: demo / (\S+)", seen)
        assert found, seen[-2000:]
        assert "press Ctrl-C" in seen, seen[-2000:]
        time.sleep(3)  # still serving after the demo's seconds
        with urllib.request.urlopen(found.group(1) + "/login", timeout=10) as response:
            assert response.status == 200 and "网络智能运维平台" in response.read().decode("utf-8")
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        assert "台设备" in out and "分组在线率" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
