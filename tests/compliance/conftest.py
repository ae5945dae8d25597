"""Fixtures for the compliance tests: a config whose store lives in the test's tmp dir."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
CONTRACTS = REPO / "examples" / "contracts"


def write_config(tmp_path: Path, agent_id: str = "site-a", extra: str = "") -> Path:
    """A minimal config (no devices) with its data_dir under ``tmp_path``."""
    path = tmp_path / f"config-{agent_id}.yaml"
    path.write_text(
        f"agent:\n  id: {agent_id}\n  data_dir: {tmp_path / ('data-' + agent_id)}\n{extra}", encoding="utf-8"
    )
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path)
