"""Shared helpers for tests that talk to real peers on loopback.

``need`` skips a test whose peer is missing, and under ``CI=true`` fails it instead, so CI
proves the real thing. ``Peer`` starts a daemon, waits for it with a bounded readiness poll
and stops it by PID.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def need(condition: object, reason: str) -> None:
    """Skip (or under CI fail) unless ``condition`` holds."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required test peer missing under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def need_binary(name: str, *candidates: str) -> str:
    """The path of an executable, looked up on PATH and in ``candidates``; skip/fail if absent."""
    found = shutil.which(name)
    if not found:
        found = next((c for c in candidates if os.access(c, os.X_OK)), None)
    need(found, f"{name} is not installed (scripts/test installs it as root)")
    return str(found)


def need_root(reason: str) -> None:
    need(os.geteuid() == 0, f"needs root: {reason}")


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float = 10.0, what: str = "peer") -> None:
    """Poll ``check`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"{what} did not become ready within {timeout:g} s", pytrace=False)


def tcp_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class Peer:
    """A daemon started for a test; ``stop()`` ends it by PID (and its process group)."""

    def __init__(
        self, argv: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.argv = list(argv)
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def assert_running(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"{self.argv[0]} exited with {self.process.returncode}:\n{self.log_text()[-2000:]}", pytrace=False)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        self._log.close()
