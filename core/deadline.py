"""A total deadline for one blocking request in a worker thread.

Socket timeouts bound each read, not the request: a peer that sends one byte every few
seconds never trips them. A timer shuts the request's sockets down when the deadline passes,
which ends whatever read or write is blocked; the caller then sees ``expired`` and reports
the deadline, not the symptom (a reset or an incomplete reply).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
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
