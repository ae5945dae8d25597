"""Manual ledger entries (``yunwei record ...``): build the JSON-Lines object, check it like an
imported line, and store it; vulnerabilities and faults given again by id are updated."""

from __future__ import annotations

import json
from typing import Any

from compliance.events import EventError, Fault, Record, Vuln, parse_event
from core.errors import InputError
from core.timefmt import to_iso
from store.db import Store
from store.ledger import LedgerStore


def event_from_fields(body: dict[str, Any], agent: str, where: str = "command line") -> Fault | Vuln | Record:
    """Check a body built from command-line options; InputError names the option."""
    try:
        event = parse_event(body, agent)
    except EventError as exc:
        raise InputError.single(where, exc.message, field="--" + exc.field.split(".")[0].replace("_", "-")) from None
    assert isinstance(event, Fault | Vuln | Record)
    return event


def store_event(store: Store, event: Fault | Vuln | Record, body: dict[str, Any]) -> bool:
    """Insert or update; True when something changed."""
    at = event.opened if isinstance(event, Fault) else event.found if isinstance(event, Vuln) else event.at
    clean = {k: v for k, v in body.items() if k not in ("agent", "uid")}
    return store.put_event(event.uid, clean["type"], at, clean, agent=event.agent)


def existing_body(store: Store, uid: str) -> dict[str, Any] | None:
    text = LedgerStore(store).event_body(uid)
    return None if text is None else dict(json.loads(text))


def record_body(kind: str, unit: str, at: float, tz: str, system: str | None = None, device: str | None = None,
                fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """A record line: ``{"type": "record", "kind", "unit", "system", "at", ...}``."""
    body: dict[str, Any] = {"type": "record", "kind": kind, "unit": unit, "system": system, "at": to_iso(at, tz)}
    if device:
        body["device"] = device
    for key, value in (fields or {}).items():
        if value is not None:
            body[key] = value
    return body


def merge_update(old: dict[str, Any] | None, new: dict[str, Any], given: set[str]) -> dict[str, Any]:
    """An update of a vulnerability or fault: the old body with the options actually given."""
    if old is None:
        return new
    merged = dict(old)
    for key in given:
        merged[key] = new.get(key)
    return merged
