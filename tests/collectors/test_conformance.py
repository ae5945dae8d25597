"""Every registered collector passes the same checks: a documented sample config that
validates, a unique name, and a round over no targets that returns no samples."""

from __future__ import annotations

import sys

import pytest
import yaml

from collectors import registry
from collectors.base import Collector
from collectors.registry import DuplicateCollectorError, register

registry.load_all()
NAMES = [n for n in registry.names() if not n.startswith("test_")]


def test_the_builtin_collectors_are_registered() -> None:
    assert {"icmp", "tcp", "http"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_sample_config_validates(name: str) -> None:
    collector = registry.get(name)
    assert collector.sample_config, f"{name} has no sample_config"
    snippet = yaml.safe_load(collector.sample_config)
    assert isinstance(snippet, dict) and len(snippet) == 1, "sample_config is one probes: entry"
    [(probe_name, options)] = snippet.items()
    options = dict(options or {})
    assert options.pop("collector", probe_name) == name
    options.pop("interval", None)
    collector.Options.model_validate(options)
    assert sys.modules[collector.__module__].__doc__, f"{name}'s module has no docstring"


@pytest.mark.parametrize("name", NAMES)
async def test_a_round_over_no_targets_returns_no_samples(name: str) -> None:
    collector = registry.get(name)()
    try:
        assert await collector.collect([]) == []
    finally:
        await collector.close()


def test_a_duplicate_name_is_refused() -> None:
    class Impostor(Collector):
        name = "tcp"

        async def collect(self, targets):  # type: ignore[no-untyped-def]
            return []

    with pytest.raises(DuplicateCollectorError, match="'tcp' is taken by collectors.tcp.TcpCollector"):
        register(Impostor)
