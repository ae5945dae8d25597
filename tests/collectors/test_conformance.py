"""Every registered collector passes the same checks: a documented sample config that
validates, a unique name, and a round over no targets that returns no samples."""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from agent.metriccheck import UndeclaredMetrics
from cli.commands.probe import build_target
from cli.main import main
from collectors import registry
from collectors.base import Collector, Target
from collectors.http import HttpCollector
from collectors.registry import DuplicateCollectorError, register
from collectors.tcp import TcpCollector
from core.metrics import MetricSpec
from core.model import Sample

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


# -- declared metrics (core.metrics) ------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_collector_declares_its_metrics(name: str) -> None:
    collector = registry.get(name)
    assert collector.metrics, f"{name} declares no metrics (Collector.metrics)"
    keys = [spec.key for spec in collector.metrics]
    assert len(keys) == len(set(keys)), f"{name} declares a metric twice"
    for spec in collector.metrics:
        assert spec.help, f"{name}.{spec.name} has no help text"
        assert spec.kind in ("gauge", "counter")


def test_collectors_sharing_a_metric_name_declare_it_alike() -> None:
    """One name, one meaning: exporters map families by name, threshold rules name metrics."""
    seen: dict[str, tuple[str, MetricSpec]] = {}
    for name in NAMES:
        for spec in registry.get(name).metrics:
            first = seen.setdefault(spec.key, (name, spec))
            assert (first[1].unit, first[1].family, first[1].labels) == (spec.unit, spec.family, spec.labels), (
                f"{spec.key}: {first[0]} and {name} declare it differently"
            )


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = "政务服务平台".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


async def test_real_probes_on_loopback_emit_only_declared_metrics(
    listener: int, web_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """TCP (open and refused port) and HTTP (page with keyword) against loopback peers: every
    metric in their samples is declared, and the agent's runtime check finds nothing to log."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    check = UndeclaredMetrics()
    tcp_targets = [
        build_target("tcp", "127.0.0.1", {"port": listener, "timeout": 1}),
        build_target("tcp", "127.0.0.1", {"port": closed_port, "timeout": 1}),
    ]
    http_targets = [build_target("http", "127.0.0.1", {"url": f"http://127.0.0.1:{web_port}/", "keyword": "政务"})]
    for cls, targets in ((TcpCollector, tcp_targets), (HttpCollector, http_targets)):
        collector = cls()
        try:
            samples = await collector.collect(targets)
        finally:
            await collector.close()
        assert all(s.metrics for s in samples), samples
        assert check.check(cls, targets, samples) == []
    names = {n for s in samples for n in s.metrics}
    assert {"status", "rtt_seconds", "keyword_found"} <= names
    assert "does not declare" not in caplog.text


async def test_an_undeclared_metric_is_logged_once_per_collector_and_name(
    listener: int, caplog: pytest.LogCaptureFixture
) -> None:
    class Chatty(TcpCollector):
        """A TCP collector that also reports a metric nobody declared."""

        async def probe(self, target: Target) -> Sample:
            sample = await super().probe(target)
            sample.metrics["handshake_ms"] = 1.0
            return sample

    targets = [build_target("tcp", "127.0.0.1", {"port": listener, "timeout": 1})]
    check = UndeclaredMetrics()
    collector = Chatty()
    with caplog.at_level(logging.WARNING, logger="yunwei.agent.metrics"):
        first = check.check(Chatty, targets, await collector.collect(targets))
        second = check.check(Chatty, targets, await collector.collect(targets))
    await collector.close()
    assert first == ["handshake_ms"] and second == []
    assert caplog.text.count("'handshake_ms'") == 1
    assert "tcp" in caplog.text


def test_snmp_user_oids_are_declared_by_the_probe_options() -> None:
    options = registry.get("snmp").Options.model_validate(
        {"community": "public", "oids": [{"name": "cpu_percent", "oid": "1.3.6.1.4.1.2021.11.9.0"}]}
    )
    table = registry.get("snmp").metric_table(options)
    assert table.find("cpu_percent") is not None
    assert table.find("if.Gi0/1.100.in_bps") is not None
    assert registry.get("snmp").metric_table().find("cpu_percent") is None


def test_probe_help_lists_the_declared_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["probe", "line", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "metrics (for alerting.thresholds):" in out
    assert "loss_percent" in out and "up_util_percent" in out and "[percent]" in out
