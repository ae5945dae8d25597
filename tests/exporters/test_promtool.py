"""``promtool check metrics`` finds nothing to complain about in a real scrape that carries
every declared metric of every collector, the generic families, faults and the agent's own."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from exporters_support import feed, http_get, inventory_data
from peers import free_port

from agent.runtime import Agent
from collectors import registry
from core.model import Sample
from exporters.families import prometheus_map
from inventory.config import config_from_data


def every_declared_metric() -> dict[str, float]:
    metrics: dict[str, float] = {"vendor_oid_value": 7.0, "if.Gi0/1.vendor_counter": 3.0}  # generic families
    for name in registry.names():
        for spec in registry.get(name).metrics:
            metrics[f"if.Gi0/1.{spec.name}" if spec.per_interface else spec.name] = 42.0
    return metrics


async def test_a_scrape_with_every_kind_of_metric_passes_promtool(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    port = free_port()
    agent = Agent(config_from_data(inventory_data(tmp_path, 2, {"prometheus": {"listen": f"127.0.0.1:{port}"}})))
    await agent.start(schedule=False)
    try:
        now = time.time()
        await feed(agent, [Sample("cam-0", "tcp", True, now, every_declared_metric()), Sample("cam-1", "tcp", False, now)])
        agent.db.put_event("fault:F-1", "fault", now, {"type": "fault", "id": "F-1", "level": 2, "resolved": None}, agent="site-a")
        status, body = http_get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await agent.drain()
    assert status == 200
    text = body.decode()
    for family in prometheus_map().families:  # every declared family is in the scrape
        assert f"\n{family.name}{{" in text, family.name
    assert "yunwei_metric{" in text and "yunwei_if_metric{" in text and "yunwei_open_faults{" in text
    checked = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=60)
    assert checked.stdout.decode() + checked.stderr.decode() == "", "promtool complained"
    assert checked.returncode == 0


def test_families_are_in_base_units_and_take_their_help_from_the_declarations() -> None:
    families = {f.name: f for f in prometheus_map().families}
    assert "yunwei_if_bytes_per_second" in families and "yunwei_line_bytes_per_second" in families
    assert not [name for name in families if "bits" in name or "percent" in name]
    assert families["yunwei_loss_ratio"].help == "Echoes lost in the probe's burst"
    assert prometheus_map().per_interface["in_bps"].factor == 1 / 8
    assert prometheus_map().plain["up_util_percent"].labels == ("up",)


def test_every_declared_family_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "exporters.md").read_text()
    missing = [family.name for family in prometheus_map().families if f"`{family.name}`" not in docs]
    assert not missing, f"docs/exporters.md does not describe {missing}"
