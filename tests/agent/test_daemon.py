"""``yunwei run`` as a process: SIGTERM drains the running round, SIGHUP reloads, restarts leave a gap."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from peers import wait_for


class _SlowPage(BaseHTTPRequestHandler):
    requests = 0
    delay = 0.0

    def do_GET(self) -> None:  # noqa: N802
        type(self).requests += 1
        time.sleep(type(self).delay)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[tuple[int, type[_SlowPage]]]:
    handler = type("Handler", (_SlowPage,), {"requests": 0, "delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


def config(tmp_path: Path, port: int, devices: int = 1) -> Path:
    lines = ["agent: {id: t, data_dir: data, jitter: 0, debounce: {down_after: 1, up_after: 1}}", "devices:"]
    for i in range(devices):
        lines.append(f"  - id: web{i}\n    probes: {{http: {{url: 'http://127.0.0.1:{port}/{i}', interval: 1, timeout: 5}}}}")
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


_started: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _kill_leftover_agents() -> Iterator[None]:
    """An agent left running by a failed assertion is killed, not left polling."""
    yield
    while _started:
        process = _started.pop()
        if process.poll() is None:
            process.kill()
            process.wait(5)


def start(path: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run", "-c", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "agent.log", "ab"),  # noqa: SIM115
    )
    _started.append(process)
    return process


def query(tmp_path: Path, sql: str) -> list[tuple]:
    """Rows of ``sql``; none while the agent has not created its database yet."""
    path = tmp_path / "data" / "yunwei.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise


def test_sigterm_drains_the_running_round_and_exits_0(tmp_path: Path, slow_server) -> None:  # type: ignore[no-untyped-def]
    port, handler = slow_server
    handler.delay = 1.5
    process = start(config(tmp_path, port), tmp_path)
    wait_for(lambda: handler.requests >= 1, 15, "the agent's first request")
    process.send_signal(signal.SIGTERM)  # the round is in flight: the server is still sleeping
    assert process.wait(15) == 0
    samples = query(tmp_path, "SELECT device, ok FROM samples")
    assert ("web0", 1) in samples  # the drained round was finished and written, not cancelled
    [(started, stopped)] = query(tmp_path, "SELECT started, stopped FROM agent_runs")
    assert stopped is not None and stopped >= started
    assert query(tmp_path, "PRAGMA integrity_check") == [("ok",)]


def test_restart_leaves_the_gap_as_unknown_and_sighup_reloads(tmp_path: Path, slow_server) -> None:  # type: ignore[no-untyped-def]
    port, handler = slow_server
    path = config(tmp_path, port)
    process = start(path, tmp_path)
    wait_for(lambda: query(tmp_path, "SELECT 1 FROM samples"), 15, "samples")
    config(tmp_path, port, devices=2)
    process.send_signal(signal.SIGHUP)
    wait_for(lambda: query(tmp_path, "SELECT 1 FROM samples WHERE device = 'web1'"), 15, "the reloaded device")
    path.write_text("devices: [ {id: broken\n")
    process.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload refused" in (tmp_path / "agent.log").read_text(), 10, "the refused reload")
    assert process.poll() is None  # a bad config does not stop a running agent
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    config(tmp_path, port, devices=2)
    time.sleep(1.2)
    process = start(path, tmp_path)
    wait_for(lambda: len(query(tmp_path, "SELECT 1 FROM agent_runs")) == 2, 15, "the second run")
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    (s1, e1), (s2, e2) = query(tmp_path, "SELECT started, COALESCE(stopped, last_seen) FROM agent_runs ORDER BY id")
    assert s2 - e1 >= 1.0  # the time between runs is known to be unknown
    # the device's state carried over: no second 'unknown → up' transition after the restart
    assert query(tmp_path, "SELECT previous, state FROM transitions WHERE device = 'web0'") == [("unknown", "up")]


def test_a_second_agent_on_the_same_data_dir_is_refused(tmp_path: Path, slow_server) -> None:  # type: ignore[no-untyped-def]
    port, _ = slow_server
    path = config(tmp_path, port)
    first = start(path, tmp_path)
    wait_for(lambda: query(tmp_path, "SELECT 1 FROM agent_runs"), 15, "the first agent")
    second = subprocess.run(
        [sys.executable, "-m", "cli.main", "run", "-c", str(path)], capture_output=True, text=True, timeout=30
    )
    assert second.returncode == 2
    assert second.stderr.strip() == (
        f"yunwei: {tmp_path / 'data'}: another yunwei agent (pid {first.pid}) is already running with this data "
        "directory (agent.data_dir); stop it, or give this agent its own data_dir"
    )
    assert len(query(tmp_path, "SELECT 1 FROM agent_runs")) == 1  # the refused agent recorded no run
    first.send_signal(signal.SIGTERM)
    assert first.wait(15) == 0


@pytest.mark.parametrize("command", ["run", "status"])
@pytest.mark.parametrize("layout", ["a file", "a directory named yunwei.db", "a store that is not SQLite"])
def test_an_unusable_data_dir_is_one_line_and_exit_2(tmp_path: Path, command: str, layout: str) -> None:
    data = tmp_path / "data"
    if layout == "a file":
        data.write_text("not a directory\n")
        expected = f"yunwei: {data}: cannot use this data directory (agent.data_dir): "
    elif layout == "a directory named yunwei.db":
        (data / "yunwei.db").mkdir(parents=True)
        expected = f"yunwei: {data / 'yunwei.db'}: cannot use the store: unable to open database file"
    else:
        data.mkdir()
        (data / "yunwei.db").write_bytes(b"\x00garbage" * 1000)
        expected = f"yunwei: {data / 'yunwei.db'}: cannot use the store: file is not a database"
    path = tmp_path / "config.yaml"
    path.write_text("agent: {data_dir: data}\ndevices:\n  - {id: d1, address: 127.0.0.1, probes: {tcp: {port: 1}}}\n")
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", command, "-c", str(path)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(expected), done.stderr


def test_log_lines_are_stamped_in_the_configured_zone_with_its_offset(tmp_path: Path, slow_server) -> None:  # type: ignore[no-untyped-def]
    """The host clock is UTC (as on most servers); tables and chat say Beijing time, so does the log."""
    import os
    import re

    port, _ = slow_server
    path = config(tmp_path, port)
    log = tmp_path / "agent.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "run", "-c", str(path)], stderr=out,
                                   cwd=Path(__file__).resolve().parents[2], env={**os.environ, "TZ": "UTC"})
        _started.append(process)
        try:
            wait_for(lambda: "down → up" in log.read_text() or "first round:" in log.read_text(), 20, "a transition logged")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    lines = [line for line in log.read_text().splitlines() if line[:4].isdigit()]
    assert lines and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00 ", line) for line in lines), lines[:3]
