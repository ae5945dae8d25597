"""Demo part: a DingTalk-compatible chat robot on loopback that prints what it receives.

The sink checks the access token and the signature exactly as DingTalk documents them and
answers ``errcode 310000`` to a wrong one, so the demo exercises the real notifier, outbox and
signing path. It also adds a small fleet of its own to show dependency suppression: a leased
line with six cameras behind it; the line fails for a while (one fault naming the six cameras,
not seven alerts) and one camera stays down after the line is back (its own fault after the
grace period).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from demo.fleet import DemoContext, DemoFleet, LoopbackServer

CAMERAS = 6


class ChatSink:
    """A DingTalk robot stand-in: verifies token and signature, prints accepted messages to stderr."""

    def __init__(self, token: str, secret: str) -> None:
        self.token, self.secret = token, secret
        self.received: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = sink.handle(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-chat-sink", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token={self.token}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, body: bytes) -> dict[str, Any]:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
        if query.get("access_token") != self.token:
            return {"errcode": 300001, "errmsg": "token is not exist"}
        timestamp = query.get("timestamp", "")
        string_to_sign = f"{timestamp}\n{self.secret}"
        expected = base64.b64encode(hmac.new(self.secret.encode(), string_to_sign.encode(), hashlib.sha256).digest()).decode()
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600_000 or query.get("sign") != expected:
            print("demo chat: rejected a message with a bad signature (errcode 310000)", file=sys.stderr)
            return {"errcode": 310000, "errmsg": "sign not match"}
        try:
            message = json.loads(body.decode("utf-8"))
            markdown = message["markdown"]
        except (ValueError, KeyError, TypeError):
            return {"errcode": 40035, "errmsg": "invalid parameter"}
        self.received.append(message)
        mentions = message.get("at", {}).get("atMobiles") or []
        print(f"demo chat ◀ {markdown['title']}" + (f"  (@{', @'.join(mentions)})" if mentions else ""), file=sys.stderr)
        lines = [line for line in markdown["text"].split("\n\n")[1:] if line and not line.startswith("@")]
        for line in lines[:6]:
            print(f"            {line.replace('**', '')}", file=sys.stderr)
        if len(lines) > 6:
            print(f"            … {len(lines) - 6} more line(s)", file=sys.stderr)
        return {"errcode": 0, "errmsg": "ok"}


class AlertingDemoPart:
    def __init__(self) -> None:
        self.sink = ChatSink(token=secrets.token_hex(8), secret="SEC" + secrets.token_hex(16))
        self.line: LoopbackServer | None = None
        self.cameras: list[LoopbackServer] = []
        self.tasks: list[asyncio.Task[Any]] = []

    async def start(self, ctx: DemoContext) -> DemoFleet:
        self.sink.start()
        port = random.randint(40001, 50000)
        self.line = LoopbackServer("127.0.4.1", port)
        await self.line.open()
        fleet = DemoFleet(
            units=[{"id": "demo-gaj", "name": "示范公安局"}],
            systems=[{"id": "demo-xueliang", "name": "雪亮工程", "unit": "demo-gaj"}],
            groups=[{"id": "demo-cams", "name": "雪亮工程摄像机", "unit": "demo-gaj", "system": "demo-xueliang", "kind": "camera"}],
            devices=[
                {"id": "demo-line", "name": "汇聚专线", "kind": "line", "unit": "demo-gaj", "system": "demo-xueliang",
                 "address": "127.0.4.1", "role": "uplink", "probes": {"tcp": {"port": port, "timeout": 1}}}
            ],
        )
        for index in range(CAMERAS):
            listener = LoopbackServer(f"127.0.4.{index + 10}", port)
            await listener.open()
            self.cameras.append(listener)
            fleet.devices.append(
                {"id": f"demo-cam-{index + 1}", "name": f"路口摄像机 {index + 1}", "group": "demo-cams",
                 "address": listener.host, "parent": "demo-line", "probes": {"tcp": {"port": port, "timeout": 1}}}
            )
        fleet.sections["alerting"] = {
            "hold_seconds": ctx.interval * 2,
            "dependency_grace_seconds": ctx.interval * 3,
            "tick_seconds": 1,
            "storm": {"window_seconds": 10},
            "outbox": {"poll_seconds": 0.5},
            "rules": [
                {"kinds": ["line", "platform"], "level": 2},
                {"affected_min": 5, "level": 2},
                {"offline_ratio_min": 0.5, "level": 2},
                {"sources": "group", "level": 2},  # a group under its online-rate target costs money
            ],
            "thresholds": [
                {"name": "ups-on-battery", "metric": "on_battery", "op": "==", "value": 1, "probes": ["ups"], "label": "UPS 市电中断, 电池供电", "level": 2},
                {"name": "ups-runtime", "metric": "runtime_below_required", "op": "==", "value": 1, "probes": ["ups"], "label": "UPS 后备时间低于合同要求"},
                {"name": "line-busy", "metric": "util_percent", "op": ">", "value": 90, "for_rounds": 3, "probes": ["line"], "label": "专线带宽利用率"},
            ],
            "channels": {"demo-dingtalk": {"type": "dingtalk", "url": self.sink.url, "secret": self.sink.secret}},
            "routes": [{"channels": ["demo-dingtalk"], "mention_mobiles": ["13800000000"]}],
        }
        fleet.notes.append(f"chat messages go to a DingTalk-compatible sink on {self.sink.url.split('/robot')[0]} (signed)")
        third = ctx.seconds / 3
        self.tasks.append(asyncio.create_task(self._line_outage(third * 0.8, third)))
        return fleet

    async def _line_outage(self, after: float, duration: float) -> None:
        """The line fails and takes the cameras with it; one camera does not come back."""
        assert self.line is not None
        await asyncio.sleep(after)
        await self.line.close()
        for camera in self.cameras:
            await camera.close()
        await asyncio.sleep(duration)
        await self.line.open()
        for camera in self.cameras[1:]:
            await camera.open()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.line is not None:
            await self.line.close()
        for camera in self.cameras:
            await camera.close()
        self.sink.stop()
        if self.sink.received:
            print(f"demo: the chat sink received {len(self.sink.received)} message(s)", file=sys.stderr)


def part() -> AlertingDemoPart:
    return AlertingDemoPart()
