"""An exporter is one module plus its registration: a test-only module registers one, and it is a
valid ``exporters:`` section, refused when misconfigured (file, line, field), started by the
agent and fed its rounds, with no central file edited."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from exporters_support import feed, inventory_data

from agent.runtime import Agent
from cli.main import main
from core.model import Sample
from exporters.base import EXPORTERS
from inventory.config import config_from_data

HEAD = "agent: {id: a, data_dir: data}\ndevices:\n  - {id: d, address: 127.0.0.1, probes: {tcp: {port: 22}}}\nexporters:\n"


@pytest.fixture(autouse=True)
def fake_exporter() -> Iterator[ModuleType]:
    """Import the test-only module (its import registers the exporter); forget it afterwards."""
    module = importlib.import_module("fake_exporter")
    EXPORTERS.register(module.CsvExporter)
    yield module
    EXPORTERS.unregister("test_csv")


def test_the_new_section_validates_and_a_mistake_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(HEAD + "  test_csv:\n    path: samples.csv\n")
    assert main(["check", "-c", str(config)]) == 0
    config.write_text(HEAD + "  test_csv:\n    path: samples.txt\n")
    assert main(["check", "-c", str(config)]) == 2
    assert capsys.readouterr().err.strip().startswith(f"yunwei: {config}:6: exporters.test_csv.path: ")
    config.write_text(HEAD + "  graphite:\n    url: x\n")
    assert main(["check", "-c", str(config)]) == 2
    assert "unknown exporter (known: influxdb, prometheus, test_csv)" in capsys.readouterr().err


async def test_the_agent_starts_the_new_exporter_and_feeds_it_rounds(tmp_path: Path) -> None:
    out = tmp_path / "samples.csv"
    agent = Agent(config_from_data(inventory_data(tmp_path, 2, {"test_csv": {"path": str(out)}})))
    await agent.start(schedule=False)
    try:
        await feed(agent, [Sample("cam-0", "tcp", True, time.time()), Sample("cam-1", "tcp", False, time.time())])
    finally:
        await agent.drain()
    assert out.read_text().splitlines() == ["cam-0,tcp,1", "cam-1,tcp,0"]


def test_unregistered_it_is_an_unknown_exporter_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    EXPORTERS.unregister("test_csv")
    config = tmp_path / "config.yaml"
    config.write_text(HEAD + "  test_csv:\n    path: samples.csv\n")
    assert main(["check", "-c", str(config)]) == 2
    assert "unknown exporter (known: influxdb, prometheus)" in capsys.readouterr().err
