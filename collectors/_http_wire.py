"""Reading an HTTP/1.1 answer within stated bounds, for the http probe and the POST client.

A peer decides how much it sends; these bounds decide how much we keep. An answer that breaks
one (a header line of a megabyte, ten million header lines, a malformed chunk size) raises
``AnswerTooLarge`` or ``NotHttpError`` with a message an engineer can act on; a body larger
than ``max_body`` is cut there (``Body.cut``) and the rest never read. Time is bounded by the
caller (one deadline for the whole request), so a peer that trickles is cut off by the clock.

Memory per request: at most the stream buffer (``STREAM_LIMIT``) plus ``MAX_HEAD_BYTES`` of
header text plus ``max_body`` of body.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

MAX_HEADER_LINE = 8 * 1024  # one status or header line (nginx's default large_client_header_buffers)
MAX_HEADERS = 100  # header lines (http.client's limit)
MAX_HEAD_BYTES = 64 * 1024  # the status line and all header lines together
MAX_CHUNK_LINE = 1024  # "size;extensions" of one chunk
# The StreamReader's own buffer limit: readline() refuses lines longer than this, and the
# transport stops reading while more than twice this is buffered.
STREAM_LIMIT = 16 * 1024


class NotHttpError(ValueError):
    """The peer answered something that is not HTTP."""


class AnswerTooLarge(ValueError):
    """The peer's answer broke one of the bounds above."""


@dataclass
class Head:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Body:
    data: bytes
    cut: bool  # the peer had more to send than max_body


def printable(raw: bytes | str, limit: int = 60) -> str:
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit])


async def _line(reader: asyncio.StreamReader, limit: int, what: str) -> bytes:
    """One line of at most ``limit`` bytes (``limit`` <= STREAM_LIMIT); the peer closing ends it."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        line = exc.partial
    except asyncio.LimitOverrunError:
        line = b"-" * (limit + 1)  # no line end within the stream buffer: longer than any limit
    if len(line) > limit:
        shown = f"{limit // 1024} KiB" if limit >= 1024 else f"{limit} bytes"
        raise AnswerTooLarge(f"{what} longer than {shown}")
    return line


async def read_head(reader: asyncio.StreamReader) -> Head:
    """The status line and headers (names lower-cased; a repeated header keeps its last value)."""
    status_line = await _line(reader, MAX_HEADER_LINE, "status line")
    text = status_line.decode("latin-1").strip()
    pieces = text.split(" ", 2)
    if len(pieces) < 2 or not pieces[0].startswith("HTTP/") or not pieces[1].isdigit() or len(pieces[1]) != 3:
        raise NotHttpError(f"not an HTTP answer: {printable(text)!r}" if text else "connection closed without an answer")
    head = Head(status=int(pieces[1]), reason=pieces[2] if len(pieces) > 2 else "")
    total = len(status_line)
    count = 0
    while True:
        line = await _line(reader, MAX_HEADER_LINE, "a header line")
        if line in (b"\r\n", b"\n", b""):
            return head
        count += 1
        total += len(line)
        if count > MAX_HEADERS:
            raise AnswerTooLarge(f"more than {MAX_HEADERS} header lines")
        if total > MAX_HEAD_BYTES:
            raise AnswerTooLarge(f"headers longer than {MAX_HEAD_BYTES // 1024} KiB")
        name, _, value = line.decode("latin-1").partition(":")
        head.headers[name.strip().lower()] = value.strip()


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str], max_body: int) -> Body:
    """The body (chunked, Content-Length or until close), at most ``max_body`` bytes of it."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return await _read_chunked(reader, max_body)
    if "content-length" in headers:
        declared = headers["content-length"]
        if not declared.isdigit():
            raise NotHttpError(f"bad Content-Length {printable(declared)!r}")
        length = int(declared)
        data = await _read_upto(reader, min(length, max_body))
        return Body(data, cut=length > max_body)
    data = await _read_upto(reader, max_body)
    more = bool(await reader.read(1)) if len(data) == max_body else False
    return Body(data, cut=more)


async def _read_upto(reader: asyncio.StreamReader, size: int) -> bytes:
    """Up to ``size`` bytes; fewer only when the peer closes first."""
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError as exc:
        return exc.partial


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> Body:
    chunks: list[bytes] = []
    kept = 0
    while True:
        size_line = (await _line(reader, MAX_CHUNK_LINE, "a chunk-size line")).split(b";")[0].strip()
        if not size_line:
            return Body(b"".join(chunks), cut=False)  # closed (or a bare line): what came is the body
        try:
            size = int(size_line, 16)
        except ValueError:
            raise NotHttpError(f"bad chunk size {printable(size_line)!r}") from None
        if size < 0:
            raise NotHttpError(f"bad chunk size {printable(size_line)!r}")
        if size == 0:
            return Body(b"".join(chunks), cut=False)
        room = max_body - kept
        if size > room:  # a chunk of 7fffffffffffffff: keep what fits, read no further
            chunks.append(await _read_upto(reader, room))
            return Body(b"".join(chunks), cut=True)
        chunk = await _read_upto(reader, size)
        chunks.append(chunk)
        kept += len(chunk)
        if len(chunk) < size:
            return Body(b"".join(chunks), cut=False)
        await _line(reader, MAX_CHUNK_LINE, "a chunk's end")
