"""The shipped Grafana dashboards parse and only ask for what the exporters write."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from exporters_support import feed, inventory_data

from agent.runtime import Agent
from core.model import Sample
from exporters.config import PrometheusSettings
from exporters.lineproto import MEASUREMENTS
from exporters.prometheus import PrometheusExporter
from inventory.config import config_from_data

GRAFANA = Path(__file__).parents[2] / "deploy" / "grafana"


def load(name: str) -> dict:
    document = json.loads((GRAFANA / name).read_text(encoding="utf-8"))
    assert document["uid"] and document["panels"]
    return document


def targets(document: dict) -> list[dict]:
    found = [t for p in document["panels"] for t in p["targets"]]
    assert found
    return found


def test_influxql_dashboard_reads_only_our_measurements() -> None:
    document = load("yunwei-influxql.json")
    names = {v["name"] for v in document["templating"]["list"]}
    assert {"datasource", "agent", "group"} <= names
    for target in targets(document):
        assert target["datasource"]["type"] == "influxdb" and target["rawQuery"] is True
        query = target["query"]
        assert query.startswith("SELECT ") and '"agent" =~ /^$agent$/' in query
        measurements = set(re.findall(r'FROM "([^"]+)"', query))
        assert measurements and measurements <= set(MEASUREMENTS), query
    titles = " ".join(p["title"] for p in document["panels"])
    for wanted in ("online rate vs threshold", "loss", "RTT", "utilisation", "UPS runtime", "open faults"):
        assert wanted in titles


async def test_prometheus_dashboard_uses_metric_families_the_exporter_serves(tmp_path: Path) -> None:
    agent = Agent(config_from_data(inventory_data(tmp_path, 1)), attach_hooks=False)
    exporter = PrometheusExporter(PrometheusSettings(listen="127.0.0.1:1"))
    exporter.agent, exporter.started = agent, time.time()
    agent.components.append(exporter)
    await feed(agent, [Sample("cam-0", "tcp", True, time.time(), {"rtt_seconds": 0.1})])
    served = {family.name for family in exporter.families()}
    document = load("yunwei-prometheus.json")
    for target in targets(document):
        assert target["datasource"]["type"] == "prometheus"
        used = {re.sub(r"_total$", "", name) for name in re.findall(r"\b(yunwei_[a-z_]+)\b", target["expr"])}
        assert used and used <= served, used - served
