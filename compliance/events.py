"""Ledger events: the JSON-Lines objects of issue 6, checked field by field and typed.

One line is one event: ``state``, ``agent``, ``fault``, ``vuln`` or ``record``. Times are
ISO 8601 strings with an offset. Extra fields are allowed and kept. ``parse_event`` returns
a typed event or raises ``EventError`` naming the field that is wrong; ``canonical_line``
writes an event back in one fixed key order, so an export is byte-stable.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from core.timefmt import parse_iso

STATES = ("up", "down", "unknown", "maintenance")
AGENT_STATES = ("running", "stopped")
SEVERITIES = ("critical", "high", "medium", "low")
WAIVERS = ("force_majeure", "maintenance")
NOTICE_LEVELS = ("city", "province", "national")
# Satisfaction answers, Chinese as on the form, English accepted.
ANSWERS = {
    "满意": "satisfied",
    "基本满意": "basically_satisfied",
    "一般": "neutral",
    "不满意": "dissatisfied",
    "satisfied": "satisfied",
    "basically_satisfied": "basically_satisfied",
    "neutral": "neutral",
    "dissatisfied": "dissatisfied",
}
# Record kinds issue 6 names; any other lower-case kind (e.g. meeting_check) is accepted too.
RECORD_KINDS = (
    "visit",
    "inspection",
    "backup",
    "scan",
    "satisfaction",
    "document",
    "complaint",
    "praise",
    "notice",
    "deduction",
    "penalty",
    "staff_shortfall",
    "task_missed",
)
# What `yunwei record` accepts as an inspection's, backup's or scan's result (inspections filed
# by `yunwei inspect` say ok or problem; the backup check ok, missed or not_restorable).
# Contracts filter on them; an imported ledger may carry other words a contract names.
RECORD_RESULTS: dict[str, tuple[str, ...]] = {
    "inspection": ("ok", "problem", "missed"),
    "backup": ("ok", "missed", "not_restorable"),
    "scan": ("ok", "problem", "missed"),
}
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,40}$")

# The order keys are written in; anything else follows alphabetically, ``agent`` last.
KEY_ORDER = (
    "type",
    "uid",
    "id",
    "kind",
    "level",
    "severity",
    "unit",
    "system",
    "device",
    "at",
    "state",
    "opened",
    "acknowledged",
    "resolved",
    "waived",
    "found",
    "fixed",
    "mitigated",
)


class EventError(ValueError):
    """A field of a ledger line is missing or wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(slots=True)
class StateEvent:
    device: str
    at: float
    state: str
    cause: str = ""
    agent: str = ""


@dataclass(slots=True)
class AgentEvent:
    at: float
    state: str
    agent: str = ""
    last_heartbeat: bool = False


@dataclass(slots=True)
class Fault:
    id: str
    level: int
    opened: float
    acknowledged: float | None
    resolved: float | None
    waived: str | None
    device: str | None
    system: str | None
    unit: str | None
    cause: str
    body: dict[str, Any]
    agent: str = ""
    uid: str = ""


@dataclass(slots=True)
class Vuln:
    id: str
    severity: str
    found: float
    fixed: float | None
    mitigated: float | None
    unit: str | None
    system: str | None
    body: dict[str, Any]
    agent: str = ""
    uid: str = ""

    @property
    def key(self) -> str:
        """What makes two findings "the same vulnerability": its CVE or name on the same system."""
        name = self.body.get("cve") or self.body.get("name") or self.body.get("title") or self.id
        return f"{self.system or self.unit}|{name}"


@dataclass(slots=True)
class Record:
    kind: str
    at: float
    unit: str | None
    system: str | None
    device: str | None
    body: dict[str, Any]
    uid: str
    agent: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


LedgerEvent = StateEvent | AgentEvent | Fault | Vuln | Record


@dataclass
class ParsedLine:
    """A validated line: the typed event and the object as written (minus ``agent``)."""

    line: int
    event: LedgerEvent
    body: dict[str, Any] = field(default_factory=dict)


# -- field readers --------------------------------------------------------------------------


def _time(obj: dict[str, Any], key: str, required: bool = True) -> float | None:
    if key not in obj or obj[key] is None:
        if required:
            raise EventError(key, "is required (an ISO 8601 time with offset)")
        return None
    try:
        return parse_iso(obj[key])
    except ValueError as exc:
        raise EventError(key, str(exc)) from None


def _text(obj: dict[str, Any], key: str, required: bool = True, allow_int: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise EventError(key, "is required")
        return None
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise EventError(key, f"must be a non-empty string, got {json.dumps(value, ensure_ascii=False)}")
    return value


def _number(obj: dict[str, Any], key: str, required: bool = False, low: float | None = None,
            high: float | None = None) -> float | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise EventError(key, "is required (a number)")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EventError(key, f"must be a number, got {json.dumps(value, ensure_ascii=False)}")
    if low is not None and value < low:
        raise EventError(key, f"must be at least {low:g}, got {value:g}")
    if high is not None and value > high:
        raise EventError(key, f"must be at most {high:g}, got {value:g}")
    return float(value)


def _choice(obj: dict[str, Any], key: str, choices: tuple[str, ...], required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if value not in choices:
        shown = json.dumps(value, ensure_ascii=False) if key in obj else "missing"
        raise EventError(key, f"must be one of {', '.join(choices)} (got {shown})")
    return str(value)


def _after(obj: dict[str, Any], key: str, value: float | None, start: float, start_key: str) -> None:
    if value is not None and value < start:
        raise EventError(key, f"is before {start_key}")


# -- parsing --------------------------------------------------------------------------------


def parse_event(obj: Any, default_agent: str = "") -> LedgerEvent:
    """Check one JSON object and return its typed event; raises EventError on the first bad field."""
    if not isinstance(obj, dict):
        raise EventError("type", "a ledger line must be a JSON object")
    type_ = obj.get("type")
    agent = obj.get("agent", default_agent)
    if agent is None:
        agent = default_agent
    if not isinstance(agent, str):
        raise EventError("agent", "must be a string (the id of the agent that recorded the event)")
    uid = obj.get("uid")
    if uid is not None and (not isinstance(uid, str) or not uid.strip()):
        raise EventError("uid", "must be a non-empty string")
    body = {k: v for k, v in obj.items() if k not in ("agent", "uid")}
    if type_ == "state":
        at = _time(obj, "at")
        cause = obj.get("cause", "")
        if not isinstance(cause, str):
            raise EventError("cause", "must be a string")
        return StateEvent(str(_text(obj, "device")), float(at or 0), str(_choice(obj, "state", STATES)), cause, agent)
    if type_ == "agent":
        at = _time(obj, "at")
        heartbeat = obj.get("last_heartbeat", False)
        if not isinstance(heartbeat, bool):
            raise EventError("last_heartbeat", "must be true or false")
        state = str(_choice(obj, "state", AGENT_STATES))
        if heartbeat and state != "stopped":
            raise EventError("last_heartbeat", "only a stopped line can be a last heartbeat")
        return AgentEvent(float(at or 0), state, agent, heartbeat)
    event: Fault | Vuln | Record
    if type_ == "fault":
        event = _parse_fault(obj, body, agent)
    elif type_ == "vuln":
        event = _parse_vuln(obj, body, agent)
    elif type_ == "record":
        event = _parse_record(obj, body, agent)
    else:
        shown = json.dumps(type_, ensure_ascii=False) if "type" in obj else "missing"
        raise EventError("type", f"must be one of state, fault, vuln, record, agent (got {shown})")
    event.uid = uid or derived_uid(type_, body)
    return event


def derived_uid(type_: str, body: dict[str, Any]) -> str:
    """The uid an event gets from its own fields: ``fault:<id>``, ``vuln:<id>``,
    ``record:<kind>:<id>`` or ``record:<kind>:<hash of the body>``."""
    if type_ in ("fault", "vuln"):
        return f"{type_}:{body.get('id')}"
    kind = body.get("kind")
    if "id" in body:
        return f"record:{kind}:{body['id']}"
    return record_uid(str(kind), body)


def _parse_fault(obj: dict[str, Any], body: dict[str, Any], agent: str) -> Fault:
    fault_id = str(_text(obj, "id", allow_int=True))
    level = obj.get("level")
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 4:
        raise EventError("level", f"must be an integer 1-4, got {json.dumps(level, ensure_ascii=False)}")
    device = _text(obj, "device", required=False)
    system = _text(obj, "system", required=False)
    unit = _text(obj, "unit", required=False)
    if device is None and system is None and unit is None:
        raise EventError("device", "a fault names its device, system or unit")
    opened = float(_time(obj, "opened") or 0)
    acknowledged = _time(obj, "acknowledged", required=False)
    resolved = _time(obj, "resolved", required=False)
    _after(obj, "acknowledged", acknowledged, opened, "opened")
    _after(obj, "resolved", resolved, opened, "opened")
    waived = obj.get("waived")
    if waived is not None and waived not in WAIVERS:
        raise EventError("waived", f"must be null or one of {', '.join(WAIVERS)}")
    cause = obj.get("cause") or ""
    if not isinstance(cause, str):
        raise EventError("cause", "must be a string")
    return Fault(fault_id, level, opened, acknowledged, resolved, waived, device, system, unit, cause, body, agent)


def _parse_vuln(obj: dict[str, Any], body: dict[str, Any], agent: str) -> Vuln:
    vuln_id = str(_text(obj, "id", allow_int=True))
    unit = _text(obj, "unit")
    system = _text(obj, "system", required=False)
    severity = str(_choice(obj, "severity", SEVERITIES))
    found = float(_time(obj, "found") or 0)
    fixed = _time(obj, "fixed", required=False)
    mitigated = _time(obj, "mitigated", required=False)
    _after(obj, "fixed", fixed, found, "found")
    _after(obj, "mitigated", mitigated, found, "found")
    return Vuln(vuln_id, severity, found, fixed, mitigated, unit, system, body, agent)


def _parse_record(obj: dict[str, Any], body: dict[str, Any], agent: str) -> Record:
    kind = obj.get("kind")
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise EventError("kind", f"must be a lower-case word such as {', '.join(RECORD_KINDS[:4])} ...")
    unit = _text(obj, "unit")
    system = _text(obj, "system", required=False)
    device = _text(obj, "device", required=False)
    at = float(_time(obj, "at") or 0)
    _check_record_fields(kind, obj)
    if "id" in obj:
        _text(obj, "id", allow_int=True)
    return Record(kind, at, unit, system, device, body, "", agent)


def _check_record_fields(kind: str, obj: dict[str, Any]) -> None:
    """Fields each kind of record needs for the calculator to use it."""
    if kind == "satisfaction":
        answers = obj.get("answers")
        if answers is None and obj.get("points") is None:
            raise EventError("answers", "a satisfaction record has answers (list or question: answer) or points")
        if answers is not None:
            values = list(answers.values()) if isinstance(answers, dict) else answers
            if not isinstance(values, list) or not values:
                raise EventError("answers", "must be a non-empty list or a mapping question: answer")
            for index, answer in enumerate(values):
                if answer not in ANSWERS:
                    raise EventError(
                        f"answers.{index}", f"must be one of 满意, 基本满意, 一般, 不满意 (got {json.dumps(answer, ensure_ascii=False)})"
                    )
        _number(obj, "points", low=0)
        if "accident" in obj and not isinstance(obj["accident"], bool):
            raise EventError("accident", "must be true or false")
    elif kind == "document":
        _text(obj, "document")
    elif kind == "notice":
        _choice(obj, "level", NOTICE_LEVELS)
    elif kind == "deduction":
        _number(obj, "points", required=True, low=0)
        _text(obj, "reason")
    elif kind == "penalty":
        amount = _number(obj, "amount", low=0)
        percent = _number(obj, "percent", low=0, high=100)
        if amount is None and percent is None:
            raise EventError("amount", "a penalty has an amount (yuan) or a percent of the period's fee")
        _text(obj, "reason")
    elif kind in ("complaint", "praise"):
        _number(obj, "points", low=0)
    elif kind == "maintenance":
        maintenance_span(obj)
    elif kind == "staff_shortfall":
        missing = obj.get("missing", 1)
        if isinstance(missing, bool) or not isinstance(missing, int) or missing < 1:
            raise EventError("missing", "must be a whole number of engineers, at least 1")


def maintenance_span(obj: dict[str, Any]) -> tuple[float, float, list[str]]:
    """(start, end, devices) of a maintenance-window record (written by alerting, or by hand)."""
    times = []
    for key in ("start", "end"):
        try:
            times.append(parse_iso(obj.get(key)))  # type: ignore[arg-type]
        except ValueError as exc:
            raise EventError(key, f"a maintenance record needs {key} as an ISO 8601 time with offset ({exc})") from None
    if times[1] <= times[0]:
        raise EventError("end", "must be after start")
    devices = obj.get("devices")
    if not isinstance(devices, list) or not devices or not all(isinstance(d, str) and d for d in devices):
        raise EventError("devices", "a maintenance record lists the device ids it covers")
    return times[0], times[1], devices


def canonical_json(obj: dict[str, Any]) -> str:
    """Compact JSON with sorted keys: the basis of stable ids."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def record_uid(kind: str, body: dict[str, Any]) -> str:
    """``record:<kind>:<hash>`` of a record without an id: the same record always gets the same uid."""
    digest = hashlib.sha1(canonical_json({k: v for k, v in body.items() if k not in ("agent", "uid")}).encode()).hexdigest()
    return f"record:{kind}:{digest[:16]}"


def canonical_line(obj: dict[str, Any], agent: str = "") -> str:
    """One JSON line in the fixed key order (``agent`` last when not empty)."""
    ordered: dict[str, Any] = {}
    for key in KEY_ORDER:
        if key in obj:
            ordered[key] = obj[key]
    for key in sorted(obj):
        if key not in ordered and key != "agent":
            ordered[key] = obj[key]
    if agent:
        ordered["agent"] = agent
    return json.dumps(ordered, ensure_ascii=False, separators=(", ", ": "))
