"""Peers of the video tests: a GStreamer RTSP server, kamailio, sipp, OpenSSH sshd."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from peers import Peer, free_port, need, tcp_open, wait_for

HERE = Path(__file__).parent
SYSTEM_PYTHON = "/usr/bin/python3"


def _gst_available() -> bool:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    check = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"],
        capture_output=True,
    )
    return check.returncode == 0


@pytest.fixture(scope="session")
def gst_ok() -> bool:
    return _gst_available()


@pytest.fixture
def gst_rtsp(tmp_path: Path, gst_ok: bool) -> Iterator[Callable[..., int]]:
    """Start GStreamer RTSP servers: ``gst_rtsp(mode="none"|"basic"|"digest", user, password) -> port``."""
    need(gst_ok, "GStreamer RTSP server for python3-gi (gir1.2-gst-rtsp-server-1.0, python3-gi) is not installed")
    peers: list[Peer] = []

    def start(mode: str = "none", user: str = "admin", password: str = "Cam#2026") -> int:
        port = free_port()
        peer = Peer(
            [SYSTEM_PYTHON, str(HERE / "gst_rtsp_server.py"), str(port), mode, user, password],
            log=tmp_path / f"gst-{port}.log",
        )
        peers.append(peer)
        wait_for(lambda: peer.assert_running() or tcp_open("127.0.0.1", port), 10, "GStreamer RTSP server")
        return port

    yield start
    for peer in peers:
        peer.stop()
