"""Fixtures shared by every test area."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# Property tests search with a fresh seed on a developer's machine; CI replays the same examples
# every run, so a landing never depends on luck (what a local run finds becomes a fixed test).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")

from inventory.config import Inventory, config_from_data  # noqa: E402
from inventory.models import Target  # noqa: E402
from inventory.plugins import PROBE_KINDS  # noqa: E402


@pytest.fixture(autouse=True)
def samples_carry_only_declared_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sample a built-in collector makes in any test (most against real peers) carries
    only the metrics the collector declares (``Collector.metrics``, core.metrics)."""
    original = Target.sample
    tables: dict[Any, Any] = {}

    def checked(self: Target, ok: bool, **values: Any) -> Any:
        sample = original(self, ok, **values)
        cls = PROBE_KINDS.get(self.probe.collector)
        if cls is not None and not cls.name.startswith("test_") and cls.__module__.startswith("collectors."):
            table = tables.get(cls) or tables.setdefault(cls, cls.metric_table())
            if table.undeclared(sample.metrics):  # then with the metrics the probe's options name
                undeclared = cls.metric_table(self.options).undeclared(sample.metrics)
                assert not undeclared, f"collector {cls.name} emitted undeclared metrics {undeclared}"
        return sample

    monkeypatch.setattr(Target, "sample", checked)


@pytest.fixture
def make_inventory(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build an Inventory from a dict (data_dir defaults to the test's tmp_path)."""

    def build(data: dict[str, Any]) -> Inventory:
        data = dict(data)
        agent = dict(data.get("agent", {}))
        agent.setdefault("data_dir", str(tmp_path / "data"))
        data["agent"] = agent
        return config_from_data(data, source=str(tmp_path / "config.yaml"))

    return build


@pytest.fixture(autouse=True, scope="session")
def _config_views_in_a_temporary_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The config views that check/run/status keep (inventory.view) go to a temporary cache,
    not the developer's ~/.cache (child processes inherit it)."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
