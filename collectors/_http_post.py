"""A small HTTP/1.1 POST on asyncio streams, for SOAP (ONVIF) and other request-body probes.

The GET/HEAD client of ``collectors.http`` reads pages; this one sends a body and reads the
answer whatever its status (a SOAP fault comes back as 400/401/500 with an XML body that says
why). ``Connection: close``; body cut at ``max_body`` bytes; status, headers and chunked bodies read
within the bounds of ``collectors._http_wire``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from collectors._http_wire import MAX_HEAD_BYTES, STREAM_LIMIT, NotHttpError, read_body, read_head

__all__ = ["MEMORY_PER_REQUEST", "HttpAnswer", "NotHttpError", "post"]

MAX_BODY = 1 << 20
MEMORY_PER_REQUEST = MAX_BODY + MAX_HEAD_BYTES + STREAM_LIMIT  # the most one post() holds

USER_AGENT = "yunwei-probe/0.1"


@dataclass
class HttpAnswer:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


async def post(
    url: str, body: bytes, headers: dict[str, str] | None = None, verify_tls: bool = True, max_body: int = MAX_BODY
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
        parts.hostname, port, ssl=context, server_hostname=parts.hostname if secure else None, limit=STREAM_LIMIT
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
        head = await read_head(reader)
        answer = HttpAnswer(status=head.status, reason=head.reason, headers=head.headers)
        answer.body = (await read_body(reader, head.headers, max_body)).data
        return answer
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)
