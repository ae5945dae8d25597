"""The InfluxDB flavours' HTTP requests, checked by a server that answers like InfluxDB does.

No InfluxDB 2.x or 1.8 runs here (Debian ships 1.6.7, which has no /api/v2/write), so a small
HTTP server plays the part: it accepts a write only when path, query, headers and body are what
InfluxDB 2.x/3.x (``Authorization: Token <token>``, org and bucket) or InfluxDB 1.8's
compatibility API (``Token user:password``, bucket ``db/rp``, org ignored) expect, and answers
401/404 as they do otherwise.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from exporters_support import exporter, feed, inventory_data, wait_delivered
from peers import wait_for

from agent.runtime import Agent
from core.model import Sample
from inventory.config import config_from_data


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    lines: list[str]


@dataclass
class FakeInflux:
    """Answers POST /api/v2/write like a server holding ``token`` and ``buckets``."""

    token: str
    buckets: set[str]
    requests: list[Seen] = field(default_factory=list)
    port: int = 0


@pytest.fixture
def fake_influx() -> Iterator[FakeInflux]:
    state = FakeInflux(token="", buckets=set())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append(Seen("POST", parts.path, query, headers, body.decode().splitlines()))
            if parts.path != "/api/v2/write":
                return self._answer(404, '{"code":"not found","message":"path not found"}')
            if headers.get("authorization") != f"Token {state.token}":
                return self._answer(401, '{"code":"unauthorized","message":"unauthorized access"}')
            if query.get("bucket") not in state.buckets:
                return self._answer(404, f'{{"code":"not found","message":"bucket \\"{query.get("bucket")}\\" not found"}}')
            self._answer(204, "")

        def _answer(self, status: int, text: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def influx_agent(tmp_path: Path, server: FakeInflux, **settings: Any) -> Agent:
    options = {"url": f"http://127.0.0.1:{server.port}", "backoff_initial": 0.05, "backoff_max": 0.2, **settings}
    return Agent(config_from_data(inventory_data(tmp_path, 2, {"influxdb": options})))


def one_round(ts: float) -> list[Sample]:
    return [Sample(device=f"cam-{i}", probe="tcp", ok=True, ts=ts, metrics={"rtt_seconds": 0.002}) for i in range(2)]


@pytest.mark.parametrize(
    ("settings", "token", "bucket", "org"),
    [
        ({"flavor": "influxdb2", "org": "ops", "bucket": "yunwei", "token": "tok-123"}, "tok-123", "yunwei", "ops"),
        # InfluxDB 1.8: bucket is database/retention_policy, the token user:password, org ignored ("-")
        ({"flavor": "influxdb1", "bucket": "yunwei/autogen", "token": "writer:pw"}, "writer:pw", "yunwei/autogen", "-"),
    ],
    ids=["influxdb2", "influxdb1.8"],
)
async def test_each_flavour_sends_what_its_server_expects(
    tmp_path: Path, fake_influx: FakeInflux, settings: dict[str, str], token: str, bucket: str, org: str
) -> None:
    fake_influx.token, fake_influx.buckets = token, {bucket}
    agent = influx_agent(tmp_path, fake_influx, **settings)
    await agent.start(schedule=False)
    try:
        ts = 1_767_000_000.125
        await feed(agent, one_round(ts))
        wait_delivered(exporter(agent, "influxdb"), 2)
    finally:
        await agent.drain(5)
    assert fake_influx.requests, "nothing was written"
    for seen in fake_influx.requests:
        assert (seen.method, seen.path) == ("POST", "/api/v2/write")
        assert seen.query == {"org": org, "bucket": bucket, "precision": "ms"}
        assert seen.headers["authorization"] == f"Token {token}"
        assert seen.headers["content-encoding"] == "gzip"
        assert seen.headers["content-type"].startswith("text/plain")
    lines = [line for seen in fake_influx.requests for line in seen.lines]
    rtt = [line for line in lines if line.startswith("yunwei,") and "device=cam-0" in line]
    assert rtt and rtt[0].endswith(" 1767000000125"), lines  # millisecond timestamps, as precision=ms says


async def test_victoriametrics_flavour_sends_no_credentials(tmp_path: Path, fake_influx: FakeInflux) -> None:
    fake_influx.token, fake_influx.buckets = "", {"yunwei"}
    agent = influx_agent(tmp_path, fake_influx, flavor="victoriametrics", gzip=False)
    await agent.start(schedule=False)
    try:
        await feed(agent, one_round(time.time()))
        wait_for(lambda: fake_influx.requests, 10, "a write")
    finally:
        await agent.drain(5)
    seen = fake_influx.requests[0]
    assert seen.path == "/api/v2/write"
    assert "authorization" not in seen.headers
    assert seen.headers.get("content-encoding", "identity") == "identity"
    assert any(line.startswith("yunwei,") and " up=1.0," in line for line in seen.lines)


@pytest.mark.parametrize(
    ("token", "buckets", "expected"),
    [
        ("wrong", {"yunwei"}, "HTTP 401"),
        ("tok", {"other"}, "HTTP 404"),
    ],
    ids=["bad token", "missing bucket"],
)
async def test_refused_credentials_or_bucket_keep_the_points_spooled(
    tmp_path: Path, fake_influx: FakeInflux, token: str, buckets: set[str], expected: str
) -> None:
    fake_influx.token, fake_influx.buckets = "tok", buckets
    agent = influx_agent(tmp_path, fake_influx, flavor="influxdb2", org="ops", bucket="yunwei", token=token)
    await agent.start(schedule=False)
    try:
        await feed(agent, one_round(time.time()))
        influx = exporter(agent, "influxdb")
        wait_for(lambda: influx.status().last_error is not None, 10, "the refused write")
        status = influx.status()
        assert expected in (status.last_error or "") and status.backend_up is False
        assert status.spool_points > 0 and status.sent_points == 0  # kept for when the server is fixed
        assert token not in (status.last_error or "") or token == "tok"
    finally:
        await agent.drain(5)


async def test_an_influxdb_without_the_v2_api_is_named_with_the_flavors_to_use(tmp_path: Path) -> None:
    """A real InfluxDB 1.6 (Debian's): no /api/v2/write. Say so, not 'bucket or org not found'."""
    from exporters_support import http_get
    from peers import Peer, free_port, need_binary

    binary = need_binary("influxd")
    port, rpc = free_port(), free_port()
    (tmp_path / "influxdb.conf").write_text(
        f'reporting-disabled = true\nbind-address = "127.0.0.1:{rpc}"\n'
        f'[meta]\n  dir = "{tmp_path}/meta"\n[data]\n  dir = "{tmp_path}/data"\n  wal-dir = "{tmp_path}/wal"\n'
        f'[http]\n  bind-address = "127.0.0.1:{port}"\n  log-enabled = false\n[monitor]\n  store-enabled = false\n'
    )
    server = Peer([binary, "-config", str(tmp_path / "influxdb.conf")], log=tmp_path / "influxd.log")
    try:
        wait_for(lambda: (server.assert_running(), http_get(f"http://127.0.0.1:{port}/ping", 0.5)[0] == 204)[1], 30, "influxd")
        options = {"url": f"http://127.0.0.1:{port}", "flavor": "influxdb2", "org": "ops", "token": "tok",
                   "backoff_initial": 0.05, "backoff_max": 0.2}
        agent = Agent(config_from_data(inventory_data(tmp_path, 2, {"influxdb": options})))
        await agent.start(schedule=False)
        try:
            await feed(agent, one_round(time.time()))
            influx = exporter(agent, "influxdb")
            wait_for(lambda: influx.status().last_error is not None, 10, "the refused write")
            error = influx.status().last_error or ""
            assert "InfluxDB 1.6" in error and "has no /api/v2/write" in error, error
            assert "flavor: influxdb1" in error and "flavor: victoriametrics" in error
            assert "bucket or org not found" not in error
        finally:
            await agent.drain(5)
    finally:
        server.stop()
