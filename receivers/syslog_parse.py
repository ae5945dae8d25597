"""Syslog messages: RFC 5424 and RFC 3164 (as network gear really sends it), UTF-8 or GBK, and
what a line means (built-in rules for interface up/down of Huawei, H3C and Cisco, plus config).

Parsing is lenient by design: a line with no PRI, a Huawei timestamp with the year in it, a
Cisco sequence number before the time, or bytes that are neither UTF-8 nor GBK still become
a message (undecodable bytes are replaced), never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.events import Event
from receivers.config import SyslogRule

MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_PRI = re.compile(rb"^<(\d{1,3})>")
# RFC 3164-ish: optional "123: " sequence (Cisco), optional "*"/".", "Mmm dd [yyyy] hh:mm:ss[.mmm] [yyyy]"
_BSD_TIME = re.compile(
    r"^(?:\d+:\s+)?[*.]?(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+(?:(?P<year1>\d{4})\s+)?"
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.\d+)?(?:\s+(?P<year2>\d{4}))?(?:\s+[A-Z]{2,5}(?:[+-]\d{1,2}(?::\d{2})?)?)?:?\s+"
)
_TAG = re.compile(r"^(?P<tag>[^\s:\[\]]{1,64})(?:\[(?P<pid>[^\]]{0,32})\])?:\s?")


@dataclass(slots=True)
class SyslogMessage:
    facility: int | None
    severity: int | None
    at: float | None  # the sender's timestamp when it could be read
    host: str
    program: str
    message: str
    structured: str = ""


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK), else UTF-8 with replacements."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def parse(raw: bytes, zone: str = "Asia/Shanghai", now: float | None = None) -> SyslogMessage:
    """One syslog message (a datagram or one framed TCP message)."""
    facility = severity = None
    match = _PRI.match(raw)
    if match is not None and int(match.group(1)) <= 191:
        pri = int(match.group(1))
        facility, severity = pri >> 3, pri & 7
        raw = raw[match.end() :]
    if raw[:2] == b"1 ":
        parsed = _parse_5424(raw[2:], facility, severity)
        if parsed is not None:
            return parsed
    text = decode_text(raw).rstrip("\r\n\x00")
    return _parse_3164(text, facility, severity, zone, now)


def _parse_5424(raw: bytes, facility: int | None, severity: int | None) -> SyslogMessage | None:
    parts = raw.split(b" ", 5)
    if len(parts) < 6:
        return None
    stamp, host, app, _procid, _msgid, rest = parts
    structured, message = _split_structured(rest)
    at = None
    if stamp != b"-":
        try:
            at = datetime.fromisoformat(stamp.decode("ascii").replace("Z", "+00:00")).timestamp()
        except (ValueError, UnicodeDecodeError):
            at = None
    return SyslogMessage(
        facility,
        severity,
        at,
        "" if host == b"-" else decode_text(host),
        "" if app == b"-" else decode_text(app),
        decode_text(message).rstrip("\r\n\x00"),
        decode_text(structured) if structured != b"-" else "",
    )


def _split_structured(rest: bytes) -> tuple[bytes, bytes]:
    """(STRUCTURED-DATA, MSG): ``-`` or ``[id k="v" …][…]`` with ``\\]`` escapes honoured."""
    if rest.startswith(b"-"):
        return b"-", rest[2:] if rest[1:2] == b" " else rest[1:]
    if not rest.startswith(b"["):
        return b"-", rest
    position, depth, escaped = 0, 0, False
    while position < len(rest):
        byte = rest[position : position + 1]
        if escaped:
            escaped = False
        elif byte == b"\\":
            escaped = True
        elif byte == b"[":
            depth += 1
        elif byte == b"]":
            depth -= 1
            if depth == 0 and rest[position + 1 : position + 2] != b"[":
                return rest[: position + 1], rest[position + 2 :]
        position += 1
    return rest, b""


def _parse_3164(text: str, facility: int | None, severity: int | None, zone: str, now: float | None) -> SyslogMessage:
    at = None
    host = ""
    match = _BSD_TIME.match(text)
    if match is not None:
        at = _bsd_time(match, zone, now)
        text = text[match.end() :]
        first, _, rest = text.partition(" ")
        if rest and not first.endswith(":") and not first.startswith("%") and "%" not in first:
            host, text = first, rest  # "HOSTNAME TAG: msg"; "%LINK-3-UPDOWN: …" has no host
    program = ""
    tag = _TAG.match(text)
    if tag is not None and not tag.group("tag").startswith("%"):
        program = tag.group("tag")
        text = text[tag.end() :]
    elif text.startswith("%"):  # Huawei/H3C "%%01IFNET/4/LINK_STATE(l)[1]:", Cisco "%LINK-3-UPDOWN:"
        program = re.split(r"[(\[:\s]", text, maxsplit=1)[0]
    return SyslogMessage(facility, severity, at, host, program, text)


def _bsd_time(match: re.Match[str], zone: str, now: float | None) -> float | None:
    month = MONTHS.get(match.group("mon").lower())
    if month is None:
        return None
    tz = ZoneInfo(zone)
    current = datetime.now(tz) if now is None else datetime.fromtimestamp(now, tz)
    year = int(match.group("year1") or match.group("year2") or current.year)
    try:
        moment = datetime(year, month, int(match.group("day")), int(match.group("h")), int(match.group("m")), int(match.group("s")), tzinfo=tz)
    except ValueError:
        return None
    if not (match.group("year1") or match.group("year2")) and moment.timestamp() > current.timestamp() + 86400:
        moment = moment.replace(year=year - 1)  # December's line read in January
    return moment.timestamp()


# -- meanings -------------------------------------------------------------------------------

_UP_WORDS = {"up"}


@dataclass(frozen=True, slots=True)
class _Builtin:
    name: str
    pattern: re.Pattern[str]


BUILTIN = (
    _Builtin(
        "LINK_STATE",
        re.compile(r"%%\d*IFNET/\d/LINK_STATE.*?line protocol(?: IP)? on the interface (?P<iface>\S+?) has entered the (?P<state>UP|DOWN) state", re.I),
    ),
    _Builtin("IF_STATE", re.compile(r"%%\d*IFPDT/\d/IF_STATE.*?Interface (?P<iface>\S+?) has turned into (?P<state>UP|DOWN) state", re.I)),
    _Builtin(
        "PHY_UPDOWN",
        re.compile(r"%%\d*IFNET/\d/PHY_UPDOWN.*?Physical state on the interface (?P<iface>\S+?) changed to (?P<state>up|down)", re.I),
    ),
    _Builtin(
        "LINK_UPDOWN",
        re.compile(r"%%\d*IFNET/\d/LINK_UPDOWN.*?Line protocol state on the interface (?P<iface>\S+?) changed to (?P<state>up|down)", re.I),
    ),
    _Builtin(
        "LINK-UPDOWN",
        re.compile(r"%LINK-\d-UPDOWN: Interface (?P<iface>[^,]+), changed state to (?P<state>up|down|administratively down)", re.I),
    ),
    _Builtin(
        "LINEPROTO-UPDOWN",
        re.compile(r"%LINEPROTO-\d-UPDOWN: Line protocol on Interface (?P<iface>[^,]+), changed state to (?P<state>up|down)", re.I),
    ),
)


def interpret(
    parsed: SyslogMessage, source: str, device: str | None, at: float, rules: list[SyslogRule], language: str = "zh"
) -> Event | None:
    """The event of one message: a config rule's meaning, else a built-in one, else a plain
    event (None when nothing matched and ``store_unmatched`` is handled by the caller)."""
    event = Event("syslog", source, at, parsed.program or "syslog", device=device, oid=parsed.program, message=parsed.message)
    event.severity = parsed.severity
    for rule in rules:
        if rule.devices and device not in rule.devices:
            continue
        if rule.program is not None and re.search(rule.program, parsed.program) is None:
            continue
        match = re.search(rule.match, parsed.message)
        if match is None:
            continue
        groups = {k: v or "" for k, v in match.groupdict().items()}
        event.name, event.hint, event.level, event.confirm = rule.name, rule.hint, rule.level, rule.confirm
        event.subject = _fill(rule.subject, groups)
        event.text = _fill(rule.text, groups) or parsed.message[:200]
        event.metric, event.value = (_fill(rule.metric, groups) if rule.metric else None), rule.value
        return event
    whole = parsed.message if parsed.message.startswith("%") else f"{parsed.program} {parsed.message}"
    for builtin in BUILTIN:
        match = builtin.pattern.search(whole)
        if match is None:
            continue
        iface, state = match.group("iface").strip(), match.group("state").lower()
        up = state in _UP_WORDS
        event.name, event.hint, event.subject = builtin.name, "up" if up else "down", iface
        event.metric, event.value = f"if.{iface}.oper_up", 1.0 if up else 0.0
        event.text = (f"{iface} 链路{'恢复' if up else '中断'}") if language == "zh" else f"{iface} link {'up' if up else 'down'}"
        return event
    return event


def _fill(template: str, groups: dict[str, str]) -> str:
    if "{" not in template:
        return template
    try:
        return template.format(**groups)
    except (IndexError, KeyError, ValueError):
        return template
