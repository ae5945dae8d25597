"""The README's "Installing on a jump host" section, run as written: a fresh venv, yunwei from its
built wheel with ``pip install --no-index --find-links`` (no network), the example config and
the example contracts, ``yunwei check`` passing. Root-only steps (useradd, chown, systemctl)
are left out and system paths moved under a temporary directory.

The dependencies' wheels are collected once into ``tests/.peers/wheels`` (the first run needs
the package index, as ``pip wheel`` on the connected machine does); later runs reuse them and
rebuild only yunwei's own wheel, so the test takes well under a minute.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WHEELS = REPO / "tests" / ".peers" / "wheels"
SYSTEM_PATHS = ("/opt/yunwei", "/etc/yunwei", "/var/lib/yunwei", "/usr/share/doc/yunwei")


def readme_install_lines() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Installing on a jump host", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the install section has a sh block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def as_user_in(root: Path, line: str) -> str | None:
    """The line as a non-root test can run it, or None for root-only steps."""
    if line.startswith("useradd") or "systemctl" in line:
        return None
    line = re.sub(r" -o \S+ -g \S+", "", line)  # ownership needs root and the yunwei user
    line = re.sub(r"pip install /path/to/yunwei", f"pip install --no-index --find-links {WHEELS} yunwei", line)
    for path in SYSTEM_PATHS:
        line = line.replace(path, f"{root}{path}")
    return line


def offline_env() -> dict[str, str]:
    """No pip configuration (this machine's index and find-links) and no PIP_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    return env


def build_wheels() -> Path:
    """yunwei's wheel, fresh, beside the cached wheels of its dependencies."""
    WHEELS.mkdir(parents=True, exist_ok=True)
    for old in WHEELS.glob("yunwei-*.whl"):
        old.unlink()
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "-w", str(WHEELS), "--find-links", str(WHEELS)]
    subprocess.run([*pip, "--no-deps", str(REPO)], check=True, timeout=300)
    [wheel] = WHEELS.glob("yunwei-*.whl")
    offline = subprocess.run([*pip, "--no-index", str(wheel)], capture_output=True, env=offline_env(), timeout=300)
    if offline.returncode != 0:  # a dependency is missing from the cache: collect it once
        done = subprocess.run([*pip, str(wheel)], capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"cannot collect the dependencies' wheels (no package index?): {done.stderr[-500:]}")
    return wheel


@pytest.mark.slow
def test_the_readme_install_section_works_offline_from_the_wheel(tmp_path: Path) -> None:
    wheel = build_wheels()
    shipped = zipfile.ZipFile(wheel).namelist()
    assert {"compliance/contracts/municipal.yaml", "compliance/contracts/vc_medical.yaml"} <= set(shipped)
    assert not any(name.startswith("tests/") for name in shipped)
    env = offline_env()
    for line in readme_install_lines():
        command = as_user_in(tmp_path, line)
        if command is None:
            continue
        done = subprocess.run(["bash", "-ec", command], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    yunwei = tmp_path / "opt/yunwei/.venv/bin/yunwei"
    installed = subprocess.run([str(yunwei.parent / "python"), "-c", "import agent, sys; print(agent.__file__)"],
                               capture_output=True, text=True, env=env, cwd=tmp_path)
    assert str(tmp_path) in installed.stdout  # the wheel's copy, not this checkout
    assert sorted(p.name for p in (tmp_path / "etc/yunwei/examples/contracts").iterdir()) == [
        "municipal.yaml", "service_hall.yaml", "vc_medical.yaml"]
    unit = (REPO / "deploy/yunwei.service").read_text(encoding="utf-8")
    documentation = re.search(r"^Documentation=(.*)$", unit, re.MULTILINE)
    assert documentation is not None
    for url in documentation.group(1).split():
        assert (tmp_path / url.removeprefix("file:///")).is_file(), url  # the README's install put it there
