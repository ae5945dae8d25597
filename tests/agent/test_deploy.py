"""deploy/yunwei.service: what the unit promises in issue 2 (unprivileged, CAP_NET_RAW + CAP_NET_BIND_SERVICE, SIGTERM
drains, SIGHUP reloads, bad input not restarted in a loop)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "yunwei.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT)
    return parser


def test_the_unit_runs_the_daemon_unprivileged_with_cap_net_raw_and_bind_service_only() -> None:
    service = unit()["Service"]
    assert service["User"] == "yunwei" != "root"
    assert service["ExecStart"].split()[1:3] == ["run", "-c"]
    # raw ICMP sockets, and ports 162/514 for the trap and syslog receivers
    assert service["AmbientCapabilities"] == service["CapabilityBoundingSet"] == "CAP_NET_RAW CAP_NET_BIND_SERVICE"
    assert service["KillSignal"] == "SIGTERM"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert float(service["TimeoutStopSec"]) > 60  # longer than yunwei run's default drain timeout
    assert service["RestartPreventExitStatus"] == "2"  # exit 2 is bad input: restarting cannot fix it


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # a tool, not a test peer: containers often lack systemd
        pytest.skip("systemd-analyze is not installed")
    yunwei = Path(sys.executable).parent / "yunwei"
    text = UNIT.read_text().replace("/opt/yunwei/.venv/bin/yunwei", str(yunwei))
    (tmp_path / "yunwei.service").write_text(text)
    done = subprocess.run([analyze, "verify", str(tmp_path / "yunwei.service")], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
