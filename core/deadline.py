"""A total deadline for one blocking request in a worker thread.

Socket timeouts bound each read, not the request: a peer that sends one byte every few
seconds never trips them. A timer shuts the request's sockets down when the deadline passes,
which ends whatever read or write is blocked; the caller then sees ``expired`` and reports
the deadline, not the symptom (a reset or an incomplete reply).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.request
from typing import Any


class Deadline:
    """Shuts down the sockets of one request when its time is up.

    ``watch`` takes anything with a ``sock`` attribute (http.client and smtplib connections:
    read at expiry, so a socket replaced by TLS is still the one shut down) or a socket."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(0.001, self.ends - time.monotonic())

    def watch(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)
            if self.expired:
                self._shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for connection in self._connections:
                self._shut(connection)

    @staticmethod
    def _shut(connection: Any) -> None:
        sock = connection if isinstance(connection, socket.socket) else getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def watched_opener(deadline: Deadline, context: ssl.SSLContext | None = None) -> urllib.request.OpenerDirector:
    """A urllib opener whose connections ``deadline`` watches (urllib's proxy handling kept);
    ``context`` for https (a private CA, or verification off)."""

    def connection_class(base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
        class Watched(base):  # type: ignore[valid-type, misc]
            def connect(self) -> None:
                self.timeout = deadline.remaining()
                deadline.watch(self)
                super().connect()

        return Watched

    class HttpHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(connection_class(http.client.HTTPConnection), req)

    class HttpsHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            arguments: dict[str, Any] = {"context": self._context}
            if hasattr(self, "_check_hostname"):  # Python 3.11; gone in 3.12
                arguments["check_hostname"] = self._check_hostname
            return self.do_open(connection_class(http.client.HTTPSConnection), req, **arguments)

    return urllib.request.build_opener(HttpHandler, HttpsHandler(context=context))
