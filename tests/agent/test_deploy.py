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


def test_the_unit_is_hardened_and_its_documentation_is_installed_by_the_readme() -> None:
    service = unit()["Service"]
    for key, value in {
        "SystemCallFilter": "@system-service", "SystemCallArchitectures": "native", "MemoryDenyWriteExecute": "true",
        "ProtectProc": "invisible", "ProcSubset": "pid", "RemoveIPC": "true", "PrivateMounts": "true",
    }.items():
        assert service[key] == value, key
    readme = (UNIT.parents[1] / "README.md").read_text(encoding="utf-8")
    for document in unit()["Unit"]["Documentation"].split():
        path = document.removeprefix("file://")
        relative = path.removeprefix("/usr/share/doc/yunwei/")
        assert (UNIT.parents[1] / relative).is_file(), relative  # shipped in the source tree ...
    assert "cp -r README.md docs /usr/share/doc/yunwei/" in readme  # ... and copied there by the README's install


MDWE_CHILD = """
import ctypes, sys
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit(77)
import mmap
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit(78)  # the kernel did not enforce it: the test would prove nothing
except OSError:
    pass
from cli.main import main
from collectors import registry
registry.load_all()
import paramiko, netmiko, openpyxl, docx, pysnmp.hlapi.v3arch.asyncio
from cryptography.hazmat.primitives.asymmetric import ec
ec.generate_private_key(ec.SECP256R1())
callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
assert callback(1) == 2
sys.exit(main(["check", "-c", sys.argv[1]]))
"""


def test_the_agent_runs_with_memory_deny_write_execute() -> None:
    """MemoryDenyWriteExecute=true is systemd's seccomp filter; the kernel's MDWE prctl (Linux 6.3+)
    refuses the same mappings, so the agent's imports, crypto and ctypes callbacks run under it here."""
    repo = UNIT.parents[1]
    done = subprocess.run([sys.executable, "-c", MDWE_CHILD, str(repo / "config.example.yaml")],
                          capture_output=True, text=True, cwd=repo, timeout=120)
    if done.returncode == 77:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+)")
    assert done.returncode == 0, done.stdout + done.stderr
