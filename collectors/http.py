"""HTTP(S) probe: status, latency, an optional keyword in the body, TLS certificate days left.

A small HTTP/1.1 client on asyncio streams: one request, ``Connection: close``, no redirects
followed (a 3xx is an answer). The certificate's expiry (``cert_days_left``) is reported
whatever verification says: read even when verification is off, so a self-signed platform
still reports its expiry, and fetched once more when verification refused the certificate,
so an expired self-signed one says both (``self-signed certificate; it also expired 12 days ago``).

Sample config::

    probes:
      http:
        url: https://portal.example.gov.cn/login
        keyword: 登录
        expect_status: [200]
        timeout: 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import ssl
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, field_validator

from collectors._http_wire import (
    MAX_HEAD_BYTES,
    STREAM_LIMIT,
    AnswerTooLarge,
    Body,
    NotHttpError,
    read_body,
    read_head,
)
from collectors.base import RTT, STATUS, PerTargetCollector, Target, describe_exception
from collectors.registry import register
from core.metrics import MetricSpec
from core.model import Sample

# The most of a page kept for the keyword search; the rest is never read. With the header
# bounds of collectors._http_wire this is what one probe may hold (see docs/bounds.md).
MAX_BODY = 2 * 1024 * 1024


class HttpOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    method: str = Field("GET", pattern="^(GET|HEAD)$")
    timeout: float = Field(10.0, gt=0)
    keyword: str | None = None
    expect_status: list[int] = Field(default_factory=list, description="empty: any 1xx-3xx status is up")
    verify_tls: bool = True
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value


@register
class HttpCollector(PerTargetCollector):
    name = "http"
    metrics = (
        STATUS,
        RTT,
        MetricSpec("cert_days_left", "days", help="Days until the server's TLS certificate expires"),
        MetricSpec("keyword_found", help="1 when the page contains the expected keyword"),
    )
    Options = HttpOptions
    memory_per_probe = MAX_BODY + MAX_HEAD_BYTES + STREAM_LIMIT
    sample_config = "http:\n  url: https://127.0.0.1:8443/\n  keyword: ok\n  timeout: 5\n"

    async def probe(self, target: Target) -> Sample:
        options: HttpOptions = target.options
        started = time.time()
        clock = time.perf_counter()
        try:
            result = await asyncio.wait_for(fetch(options), options.timeout)
        except TimeoutError:
            return target.failure(f"timeout after {options.timeout:g} s", ts=started)
        except ssl.SSLCertVerificationError as exc:
            return await self._untrusted(target, options, exc, started, options.timeout - (time.perf_counter() - clock))
        except AnswerTooLarge as exc:
            return target.failure(f"answer refused: {exc}", ts=started)
        except NotHttpError as exc:
            return target.failure(str(exc), ts=started)
        except (OSError, ssl.SSLError, ValueError) as exc:
            return target.failure(describe_exception(exc), ts=started)
        elapsed = time.perf_counter() - clock
        metrics: dict[str, float] = {"status": float(result.status), "rtt_seconds": elapsed}
        info = {"status_line": result.reason}
        if result.cert_not_after is not None:
            metrics["cert_days_left"] = (result.cert_not_after - datetime.now(UTC)).total_seconds() / 86400
        problem = None
        if options.expect_status:
            if result.status not in options.expect_status:
                problem = f"HTTP {result.status} (expected {', '.join(map(str, options.expect_status))})"
        elif result.status >= 400:
            problem = f"HTTP {result.status} {result.reason}".strip()
        if problem is None and options.keyword is not None:
            found = options.keyword in page_text(result.body.data, result.content_type)
            metrics["keyword_found"] = float(found)
            if not found:
                where = f"the first {MAX_BODY // (1024 * 1024)} MiB of the page" if result.body.cut else "the page"
                problem = f"keyword {options.keyword!r} not found in {where}"
        return target.sample(problem is None, ts=started, metrics=metrics, error=problem, info=info)

    async def _untrusted(
        self, target: Target, options: HttpOptions, exc: ssl.SSLCertVerificationError, started: float, time_left: float
    ) -> Sample:
        """A certificate that failed verification, with its expiry all the same: OpenSSL names
        one reason (a self-signed certificate is reported as self-signed, never as expired), so
        the certificate is fetched once more without verification, within the probe's timeout."""
        error = f"TLS certificate not trusted: {exc.verify_message}"
        metrics: dict[str, float] = {}
        not_after = None
        if time_left > 0:
            with contextlib.suppress(OSError, TimeoutError, ssl.SSLError, ValueError):
                not_after = await asyncio.wait_for(peer_certificate_expiry(options), time_left)
        if not_after is not None:
            days_left = (not_after - datetime.now(UTC)).total_seconds() / 86400
            metrics["cert_days_left"] = days_left
            if days_left < 0 and "expired" not in error:
                error += f"; it also expired {expiry_age(days_left)}"
            elif days_left < 0:
                error += f" ({expiry_age(days_left)})"
        return target.failure(error, ts=started, metrics=metrics)

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--keyword", help="text the page must contain")
        parser.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        options: dict[str, Any] = {"url": args.target, "timeout": args.timeout, "verify_tls": not args.insecure}
        if args.keyword:
            options["keyword"] = args.keyword
        return options


def expiry_age(days_left: float) -> str:
    """``-12.3`` → ``12 days ago`` (whole days past; ``today`` within the first day)."""
    days = int(-days_left)
    return "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"


def certificate_expiry(writer: asyncio.StreamWriter) -> datetime | None:
    """The peer certificate's notAfter, read whether or not it was verified."""
    ssl_object = writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    return x509.load_der_x509_certificate(der).not_valid_after_utc if der else None


async def peer_certificate_expiry(options: HttpOptions) -> datetime | None:
    """Handshake without verification and read the certificate's expiry (nothing is sent)."""
    parts = urlsplit(options.url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    _, writer = await asyncio.open_connection(
        parts.hostname, parts.port or 443, ssl=context, server_hostname=parts.hostname, limit=STREAM_LIMIT
    )
    try:
        return certificate_expiry(writer)
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


class HttpResult:
    def __init__(
        self, status: int, reason: str, body: Body, cert_not_after: datetime | None, content_type: str = ""
    ) -> None:
        self.status, self.reason, self.body, self.cert_not_after = status, reason, body, cert_not_after
        self.content_type = content_type


_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)


def page_text(body: bytes, content_type: str = "") -> str:
    """The page as text in its own charset: the Content-Type header's, else a ``<meta>`` charset
    in the first 4 KB, else UTF-8 if it decodes, else GB18030 (government sites often serve GBK)."""
    declared = _CHARSET.search(content_type.encode("latin-1", "replace")) or _CHARSET.search(body[:4096])
    candidates = [declared.group(1).decode("ascii", "replace")] if declared else []
    for charset in [*candidates, "utf-8", "gb18030"]:
        charset = "gb18030" if charset.lower() in ("gb2312", "gbk", "gb_2312-80", "x-gbk") else charset
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", "replace")


def host_header(hostname: str, port: int | None) -> str:
    """``Host:`` as RFC 7230 writes it: an IPv6 literal in brackets (``[::1]:8080``)."""
    host = f"[{hostname}]" if ":" in hostname else hostname
    return host if port is None else f"{host}:{port}"


async def fetch(options: HttpOptions) -> HttpResult:
    """One request; returns status, reason, (decoded, cut at MAX_BODY) body and the server
    certificate's expiry. Header lines, their count and size are bounded (AnswerTooLarge);
    the caller bounds the time."""
    parts = urlsplit(options.url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    context = None
    if secure:
        context = ssl.create_default_context()
        if not options.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.open_connection(
        parts.hostname, port, ssl=context, server_hostname=parts.hostname if secure else None, limit=STREAM_LIMIT
    )
    try:
        cert_not_after = certificate_expiry(writer) if secure else None
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {"Host": host_header(parts.hostname or "", parts.port), "User-Agent": "yunwei-probe/0.1", "Accept": "*/*", "Connection": "close"}
        headers.update(options.headers)
        request = f"{options.method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(request.encode("latin-1"))
        await writer.drain()
        head = await read_head(reader)
        body = Body(b"", cut=False)
        if options.method != "HEAD" and (options.keyword is not None):
            body = await read_body(reader, head.headers, MAX_BODY)
        return HttpResult(head.status, head.reason, body, cert_not_after, head.headers.get("content-type", ""))
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)
