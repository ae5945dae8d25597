"""Loopback stand-ins for the chat platforms and an SMTP server, strict as the real ones.

``Platform`` plays DingTalk, WeCom, Feishu or a generic webhook receiver. It recomputes the
signature from the documented algorithm (not from our code) and rejects a wrong one with the
platform's own error body; a script of failures (HTTP 500, a reply slower than the client's
timeout, a platform error code such as 45009) can be queued before normal service resumes.
Accepted messages are kept in ``accepted`` (in order), so tests can check that nothing was
lost or sent twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socketserver
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIGN_NOT_MATCH = {"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}
DING_TOKEN_MISSING = {"errcode": 300001, "errmsg": "token is not exist"}
DING_TOO_FAST = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
DING_TOO_LONG = {"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"}
WECOM_INVALID_KEY = {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1_abcdef]"}
WECOM_FREQ = {"errcode": 45009, "errmsg": "api freq out of limit"}
WECOM_TOO_LONG = {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
FEISHU_SIGN = {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time", "data": {}}
FEISHU_OK = {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Platform:
    kind: str  # dingtalk, wecom, feishu, webhook
    secret: str | None = None
    token: str = "tok-123"  # DingTalk access_token / WeCom key / Feishu hook id
    # next replies: "500", ("hang", s) (no answer for s, not processed), ("delay", s) (slow, then
    # processed normally), {"errcode": ...} (a platform error body)
    script: list[Any] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    clock_skew: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Platform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                received = Received(parts.path, query, {k.lower(): v for k, v in self.headers.items()}, body)
                status, reply = platform.handle(received)
                if status == "hang":  # slower than the client; the message is not processed
                    time.sleep(reply)
                    status, reply = 504, b"gateway timeout"
                elif status == "delay":  # slow, then processed normally
                    time.sleep(reply)
                    status, reply = platform.process(received)
                data = json.dumps(reply, ensure_ascii=False).encode() if isinstance(reply, dict) else reply
                try:
                    self.send_response(int(status))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        port = self.server.server_address[1]
        if self.kind == "dingtalk":
            return f"http://127.0.0.1:{port}/robot/send?access_token={self.token}"
        if self.kind == "wecom":
            return f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={self.token}"
        if self.kind == "feishu":
            return f"http://127.0.0.1:{port}/open-apis/bot/v2/hook/{self.token}"
        return f"http://127.0.0.1:{port}/hooks/yunwei"

    def success(self) -> dict[str, Any] | bytes:
        if self.kind == "feishu":
            return FEISHU_OK
        if self.kind == "webhook":
            return b"{}"
        return {"errcode": 0, "errmsg": "ok"}

    def handle(self, received: Received) -> tuple[Any, Any]:
        with self.lock:
            self.requests.append(received)
            if self.script:
                step = self.script.pop(0)
                if step == "500":
                    return 500, b"<html>502 Bad Gateway</html>"
                if isinstance(step, tuple) and step[0] in ("delay", "hang"):
                    return step
                if isinstance(step, dict):
                    return 200, step
        return self.process(received)

    def process(self, received: Received) -> tuple[Any, Any]:
        with self.lock:
            problem = self.check(received)
            if problem is not None:
                return problem
            self.accepted.append(received.json())
            return 200, self.success()

    def now(self) -> float:
        return time.time() + self.clock_skew

    def check(self, received: Received) -> tuple[int, Any] | None:
        """The platform's own validation, from its documentation."""
        if self.kind == "dingtalk":
            if received.query.get("access_token") != self.token:
                return 200, DING_TOKEN_MISSING
            if self.secret is not None:
                timestamp = received.query.get("timestamp", "")
                sign = received.query.get("sign", "")  # parse_qsl already URL-decoded it
                string_to_sign = f"{timestamp}\n{self.secret}"
                expected = base64.b64encode(hmac.new(self.secret.encode(), string_to_sign.encode(), hashlib.sha256).digest()).decode()
                if not timestamp.isdigit() or abs(self.now() * 1000 - int(timestamp)) > 3600 * 1000 or sign != expected:
                    return 200, SIGN_NOT_MATCH
            if len(received.body) >= 20000:
                return 200, DING_TOO_LONG
        elif self.kind == "wecom":
            if received.query.get("key") != self.token:
                return 200, WECOM_INVALID_KEY
            body = received.json()
            if body.get("msgtype") == "markdown" and len(body["markdown"]["content"].encode()) > 4096:
                return 200, WECOM_TOO_LONG
            if body.get("msgtype") == "text" and len(body["text"]["content"].encode()) > 2048:
                return 200, {"errcode": 40058, "errmsg": "text.content exceed max length 2048"}
        elif self.kind == "feishu":
            if not received.path.endswith(self.token):
                return 200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}}
            if self.secret is not None:
                body = received.json()
                timestamp = str(body.get("timestamp", ""))
                string_to_sign = f"{timestamp}\n{self.secret}"
                expected = base64.b64encode(hmac.new(string_to_sign.encode(), b"", hashlib.sha256).digest()).decode()
                if not timestamp.isdigit() or abs(self.now() - int(timestamp)) > 3600 or body.get("sign") != expected:
                    return 200, FEISHU_SIGN
        elif self.kind == "webhook" and self.secret is not None:
            timestamp = received.headers.get("x-yunwei-timestamp", "")
            expected = "sha256=" + hmac.new(self.secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
            if received.headers.get("x-yunwei-signature") != expected:
                return 401, b'{"error": "bad signature"}'
        return None


class SmtpSink:
    """A minimal SMTP server (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) keeping what it got."""

    def __init__(self, refuse: bool = False) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse = refuse
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                def say(line: str) -> None:
                    self.wfile.write(line.encode() + b"\r\n")

                say("220 sink ESMTP")
                sender, recipients = "", []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    command = raw.decode("utf-8", "replace").strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        say("250-sink")
                        say("250 8BITMIME")
                    elif verb == "HELO":
                        say("250 sink")
                    elif verb == "MAIL":
                        sender, recipients = command.split(":", 1)[1].strip(" <>").split(">")[0], []
                        say("250 OK")
                    elif verb == "RCPT":
                        if sink.refuse:
                            say("550 5.1.1 mailbox unavailable")
                        else:
                            recipients.append(command.split(":", 1)[1].strip(" <>"))
                            say("250 OK")
                    elif verb == "DATA":
                        say("354 end with <CRLF>.<CRLF>")
                        data = b""
                        while True:
                            line = self.rfile.readline()
                            if line in (b".\r\n", b".\n", b""):
                                break
                            data += line[1:] if line.startswith(b"..") else line
                        sink.messages.append((sender, recipients, data))
                        say("250 OK queued")
                    elif verb in ("RSET", "NOOP"):
                        say("250 OK")
                    elif verb == "QUIT":
                        say("221 bye")
                        return
                    else:
                        say("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
