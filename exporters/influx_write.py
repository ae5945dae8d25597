"""One write of the InfluxDB exporter: a POST to ``/api/v2/write`` within a total deadline.

The sender thread of ``exporters.influxdb`` calls ``InfluxWriter.write`` with a ready (maybe
gzipped) body; the outcome is a return (accepted) or one of the exceptions below, which say
whether to retry, drop the batch or split it.
"""

from __future__ import annotations

import contextlib
import http.client
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from core.deadline import Deadline, watched_opener
from exporters.config import InfluxDBSettings

# HTTP statuses that mean "this body will never be accepted": drop the batch, count it.
REJECTED = {400, 422}
MAX_REPLY = 64 * 1024  # of a backend's answer (a 2xx has none; an error says why in a line or two)


class WriteFailed(Exception):
    """A write that may succeed later (backend down, 5xx, 429, auth or bucket problems)."""


class WriteRejected(Exception):
    """The backend refused the body itself (HTTP 400/422)."""


class TooLarge(Exception):
    """HTTP 413: the request body is over the backend's limit."""


@dataclass
class Refusal:
    """A non-2xx answer of the backend: status, reason, headers and (at most MAX_REPLY of) body."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


class InfluxWriter:
    """POSTs a ready (maybe gzipped) body to ``/api/v2/write`` from the sender thread.

    ``timeout`` is a total deadline for the whole request (core.deadline), not a per-read
    timeout: a backend (or a proxy in front of it) that answers a byte every few seconds would
    otherwise hold the sender, and the spool behind it, for as long as it likes. At most
    MAX_REPLY bytes of an answer are read."""

    def __init__(self, settings: InfluxDBSettings) -> None:
        self.timeout = settings.timeout
        query = urlencode({"org": settings.org or "-", "bucket": settings.bucket, "precision": "ms"})
        self.url = f"{settings.url.rstrip('/')}/api/v2/write?{query}"
        token = settings.token.get_secret_value() if settings.token is not None else None
        self.headers = {"Content-Type": "text/plain; charset=utf-8", "Accept": "application/json", "User-Agent": "yunwei"}
        if token:
            self.headers["Authorization"] = f"Token {token}"
        self.context: ssl.SSLContext | None = None
        if settings.url.startswith("https"):
            self.context = ssl.create_default_context(cafile=settings.ca_cert)
            if not settings.verify_tls:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE

    def write(self, payload: bytes, encoding: str) -> None:
        request = urllib.request.Request(self.url, data=payload, method="POST", headers=self.headers)
        if encoding != "identity":
            request.add_header("Content-Encoding", encoding)
        late = f"no answer within {self.timeout:g} s (the deadline of the whole request)"
        refusal = None
        with Deadline(self.timeout) as deadline:
            try:
                with watched_opener(deadline, self.context).open(request, timeout=self.timeout) as response:
                    response.read(MAX_REPLY)
            except urllib.error.HTTPError as exc:
                body = b""
                with contextlib.suppress(OSError, http.client.HTTPException):
                    body = exc.read(MAX_REPLY) if exc.fp is not None else b""
                refusal = Refusal(exc.code, str(exc.reason or ""), dict(exc.headers.items()) if exc.headers else {}, body)
            except urllib.error.URLError as exc:
                cause = exc.reason if isinstance(exc.reason, BaseException) else exc
                raise WriteFailed(late if deadline.expired or isinstance(cause, TimeoutError) else _describe(cause)) from None
            except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets mid-answer
                raise WriteFailed(late if deadline.expired or isinstance(exc, TimeoutError) else _describe(exc)) from None
            if deadline.expired:  # the answer may have been cut short by the watchdog
                raise WriteFailed(late)
        if refusal is not None:
            self._refused(refusal)

    @staticmethod
    def _refused(refusal: Refusal) -> None:
        reason = _api_reason(refusal)
        if refusal.status in REJECTED:
            raise WriteRejected(f"HTTP {refusal.status}: {reason}")
        if refusal.status == 413:
            raise TooLarge(f"HTTP 413: {reason}")
        if refusal.status == 404 and (old := _without_v2_api(refusal)) is not None:
            raise WriteFailed(old)
        hint = {401: " (check the token)", 403: " (the token may not write to this bucket)", 404: " (bucket or org not found)"}
        raise WriteFailed(f"HTTP {refusal.status}: {reason}{hint.get(refusal.status, '')}")

    def close(self) -> None:
        pass


def _without_v2_api(exc: Any) -> str | None:
    """The message for a server without /api/v2/write (InfluxDB 1.7 and older answer 404 with
    a plain ``404 page not found``); None for InfluxDB 2.x's own 404 (a missing bucket or org)."""
    headers = {str(k).lower(): str(v) for k, v in (getattr(exc, "headers", None) or {}).items()}
    version = headers.get("x-influxdb-version", "")
    body = _api_reason(exc)
    old_version = version.startswith("1.") and version[2:3].isdigit() and int(version.split(".")[1]) < 8
    if not old_version and body.lstrip().startswith("{"):
        return None
    server = f"InfluxDB {version}" if version else "this server"
    return (f"HTTP 404: {server} has no /api/v2/write (InfluxDB 1.7 and older lack the v2 API): upgrade it to 1.8+ and"
            " use flavor: influxdb1 (bucket db/rp), use InfluxDB 2.x with flavor: influxdb2, or write to"
            " VictoriaMetrics with flavor: victoriametrics")


def _api_reason(exc: Any) -> str:
    body = getattr(exc, "body", None) or ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = str(body).strip() or str(getattr(exc, "reason", "") or "")
    return text[:300]


def _describe(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Name or service not known", "No route to host", "CERTIFICATE"):
        if marker in text:
            return marker.lower() if marker != "CERTIFICATE" else "TLS certificate problem"
    return f"{type(exc).__name__}: {text[:200]}"
