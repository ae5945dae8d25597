"""bench/video_rounds.py stops the peers it started (kamailio, the RTSP responder) however it is interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from peers import need_binary, wait_for

ROOT = Path(__file__).resolve().parent.parent.parent


def _groups_of_children(pid: int) -> set[int]:
    """Process group ids of the direct children of ``pid``."""
    groups = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields: state, ppid, pgrp, ...
            groups.add(int(fields[2]))
    return groups


def _members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.mark.parametrize(
    ("part", "signum"),
    [("sip", signal.SIGTERM), ("sip", signal.SIGINT), ("sip", signal.SIGHUP), ("sip", signal.SIGKILL),
     ("rtsp", signal.SIGTERM), ("rtsp", signal.SIGKILL)],
)
def test_interrupted_bench_leaves_no_peer_running(part: str, signum: int) -> None:
    if part == "sip":
        need_binary("kamailio", "/usr/sbin/kamailio")
    bench = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "video_rounds.py"), "--only", part, "--count", "20", "--repeat", "100000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    groups: set[int] = set()
    try:
        wait_for(lambda: bench.poll() is None and bool(_groups_of_children(bench.pid)), 10, f"the {part} peer")
        groups = _groups_of_children(bench.pid)
        assert os.getpgid(bench.pid) not in groups  # the peer runs in a process group of its own
        if part == "sip":
            wait_for(lambda: all(len(_members(g)) > 1 for g in groups), 10, "kamailio's workers")
        time.sleep(0.3)  # inside the rounds now
        bench.send_signal(signum)
        bench.wait(15)
        assert bench.stderr is not None
        if signum != signal.SIGKILL:  # the bench stops its peers itself, then exits
            assert "peers stopped" in bench.stderr.read().decode()
        # after SIGKILL the kernel tells the peer (PR_SET_PDEATHSIG); kamailio takes its workers down
        deadline = time.monotonic() + 10
        while any(_members(g) for g in groups) and time.monotonic() < deadline:
            time.sleep(0.05)
        leftover = {g: _members(g) for g in groups if _members(g)}
        assert leftover == {}, f"{part} peer processes left running: {leftover}"
    finally:
        if bench.poll() is None:
            os.killpg(bench.pid, signal.SIGKILL)
            bench.wait()
        for group in groups:  # what this test started, should the assertion above have failed
            if _members(group):
                os.killpg(group, signal.SIGKILL)
