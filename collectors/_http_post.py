"""A small HTTP/1.1 POST on asyncio streams, for SOAP (ONVIF) and other request-body probes.

The GET/HEAD client of ``collectors.http`` reads pages; this one sends a body and reads the
answer whatever its status (a SOAP fault comes back as 400/401/500 with an XML body that says
why). ``Connection: close``; body cut at ``max_body`` bytes; chunked answers decoded with the
same reader as the http collector.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from collectors.http import _read_body

USER_AGENT = "yunwei-probe/0.1"


@dataclass
class HttpAnswer:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class NotHttpError(ValueError):
    """The peer answered something that is not HTTP."""


async def post(
    url: str, body: bytes, headers: dict[str, str] | None = None, verify_tls: bool = True, max_body: int = 1 << 20
) -> HttpAnswer:
    """POST ``body`` to ``url`` and return the answer. Network errors propagate as OSError."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    context = None
    if secure:
        context = ssl.create_default_context()
        if not verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.open_connection(
        parts.hostname, port, ssl=context, server_hostname=parts.hostname if secure else None
    )
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        request_headers = {
            "Host": host or "",
            "User-Agent": USER_AGENT,
            "Content-Length": str(len(body)),
            "Connection": "close",
        }
        request_headers.update(headers or {})
        head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request_headers.items()) + "\r\n"
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
        status_line = (await reader.readline()).decode("latin-1").strip()
        pieces = status_line.split(" ", 2)
        if len(pieces) < 2 or not pieces[0].startswith("HTTP/") or not pieces[1].isdigit():
            shown = "".join(ch if ch.isprintable() else "?" for ch in status_line[:60])
            raise NotHttpError(f"not an HTTP answer: {shown!r}" if status_line else "connection closed without an answer")
        answer = HttpAnswer(status=int(pieces[1]), reason=pieces[2] if len(pieces) > 2 else "")
        while True:
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            answer.headers[name.strip().lower()] = value.strip()
        answer.body = (await _read_body(reader, answer.headers))[:max_body]
        return answer
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)
