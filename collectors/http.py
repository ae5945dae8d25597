"""HTTP(S) probe: status, latency, an optional keyword in the body, TLS certificate days left.

A small HTTP/1.1 client on asyncio streams: one request, ``Connection: close``, no redirects
followed (a 3xx is an answer). The certificate is read even when verification is off, so a
self-signed platform still reports its expiry.

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
import ssl
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from collectors.base import RTT, STATUS, PerTargetCollector, Target, describe_exception
from collectors.registry import register
from core.metrics import MetricSpec
from core.model import Sample

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
            return target.failure(f"TLS certificate not trusted: {exc.verify_message}", ts=started)
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
            found = options.keyword.encode() in result.body
            metrics["keyword_found"] = float(found)
            if not found:
                problem = f"keyword {options.keyword!r} not found in the page"
        return target.sample(problem is None, ts=started, metrics=metrics, error=problem, info=info)

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


class HttpResult:
    def __init__(self, status: int, reason: str, body: bytes, cert_not_after: datetime | None) -> None:
        self.status, self.reason, self.body, self.cert_not_after = status, reason, body, cert_not_after


async def fetch(options: HttpOptions) -> HttpResult:
    """One request; returns status, reason, (decoded) body and the server certificate's expiry."""
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
        parts.hostname, port, ssl=context, server_hostname=parts.hostname if secure else None
    )
    try:
        cert_not_after = None
        if secure:
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
            if der:
                from cryptography import x509

                cert_not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        headers = {"Host": host, "User-Agent": "yunwei-probe/0.1", "Accept": "*/*", "Connection": "close"}
        headers.update(options.headers)
        request = f"{options.method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(request.encode("latin-1"))
        await writer.drain()
        status_line = (await reader.readline()).decode("latin-1").strip()
        pieces = status_line.split(" ", 2)
        if len(pieces) < 2 or not pieces[0].startswith("HTTP/") or not pieces[1].isdigit():
            raise ValueError(f"not an HTTP response: {status_line[:60]!r}")
        status, reason = int(pieces[1]), pieces[2] if len(pieces) > 2 else ""
        response_headers: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            response_headers[name.strip().lower()] = value.strip()
        body = b""
        if options.method != "HEAD" and (options.keyword is not None):
            body = await _read_body(reader, response_headers)
        return HttpResult(status, reason, body, cert_not_after)
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        size_total = 0
        while size_total < MAX_BODY:
            size_line = (await reader.readline()).split(b";")[0].strip()
            size = int(size_line or b"0", 16)
            if size == 0:
                break
            chunks.append(await reader.readexactly(size))
            size_total += size
            await reader.readline()
        return b"".join(chunks)
    if "content-length" in headers:
        return await reader.readexactly(min(int(headers["content-length"]), MAX_BODY))
    return await reader.read(MAX_BODY)
