"""A minimal client of NUT's ``upsd`` network protocol (TCP 3493): ``LIST VAR <ups>``.

Reply lines look like ``VAR su700 ups.status "OB LB"`` between ``BEGIN LIST VAR su700`` and
``END LIST VAR su700``; errors are ``ERR <CODE>``. ``DATA-STALE`` and
``DRIVER-NOT-CONNECTED`` mean upsd is up but has lost the UPS itself: comms lost.
"""

from __future__ import annotations

import asyncio
import contextlib

NUT_PORT = 3493
# upsd's own replies: a few hundred variables of a few dozen bytes each. A peer that sends more
# is not upsd (or is broken); the reply is refused at these bounds (see docs/bounds.md).
MAX_LINES = 2000
MAX_LINE = 4096
MAX_REPLY = 256 * 1024

ERRORS = {
    "UNKNOWN-UPS": "upsd does not know a UPS named {ups!r} (check ups.conf / the nut_ups option)",
    "DATA-STALE": "comms lost: upsd has no fresh data from the UPS (the driver lost contact)",
    "DRIVER-NOT-CONNECTED": "comms lost: upsd's driver for {ups!r} is not running or not connected",
    "ACCESS-DENIED": "upsd refused access (check upsd.conf LISTEN and upsd.users)",
}


class NutError(Exception):
    """upsd answered with an error, or something that is not the protocol."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def comms_lost(self) -> bool:
        return self.code in ("DATA-STALE", "DRIVER-NOT-CONNECTED")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    out = []
    escaped = False
    for ch in text:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(ch)
    return "".join(out)


def parse_list_var(ups: str, lines: list[str]) -> dict[str, str]:
    """The variables of a ``LIST VAR`` reply (without the BEGIN/END lines)."""
    values: dict[str, str] = {}
    prefix = f"VAR {ups} "
    for line in lines:
        if line.startswith(prefix):
            name, _, rest = line[len(prefix) :].partition(" ")
            values[name] = _unquote(rest)
    return values


async def _line(reader: asyncio.StreamReader) -> bytes:
    """One reply line of at most MAX_LINE bytes (b"" when upsd closed the connection)."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise NutError("PROTOCOL", "upsd closed the connection in the middle of a line") from None
        return b""
    except asyncio.LimitOverrunError:
        raise NutError("PROTOCOL", f"not a NUT upsd reply: a line longer than {MAX_LINE} bytes") from None


async def list_vars(host: str, ups: str, port: int = NUT_PORT, timeout: float = 5.0) -> dict[str, str]:
    """Every variable upsd holds for ``ups``. Raises NutError, OSError or TimeoutError."""
    return await asyncio.wait_for(_list_vars(host, ups, port), timeout)


async def _list_vars(host: str, ups: str, port: int) -> dict[str, str]:
    reader, writer = await asyncio.open_connection(host, port, limit=MAX_LINE)
    try:
        writer.write(f"LIST VAR {ups}\n".encode())
        await writer.drain()
        first = (await _line(reader)).decode("utf-8", errors="replace").strip()
        if first.startswith("ERR "):
            code = first[4:].split()[0] if len(first) > 4 else "UNKNOWN"
            raise NutError(code, ERRORS.get(code, f"upsd error {code}").format(ups=ups))
        if first != f"BEGIN LIST VAR {ups}":
            raise NutError("PROTOCOL", f"not a NUT upsd reply: {first[:60]!r}")
        lines: list[str] = []
        size = 0
        while True:
            raw = await _line(reader)
            if not raw:
                raise NutError("PROTOCOL", "upsd closed the connection in the middle of LIST VAR")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line == f"END LIST VAR {ups}":
                break
            lines.append(line)
            size += len(raw)
            if len(lines) > MAX_LINES or size > MAX_REPLY:
                raise NutError("PROTOCOL", f"not a NUT upsd reply: LIST VAR longer than {MAX_LINES} lines or {MAX_REPLY // 1024} KiB")
        with contextlib.suppress(OSError):
            writer.write(b"LOGOUT\n")
        return parse_list_var(ups, lines)
    finally:
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)
