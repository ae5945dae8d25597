"""Deadline reminders: at the configured fractions of each fault's response and resolution
windows, and one overdue notice when a deadline passes."""

from __future__ import annotations

from typing import Any

from alerting.faultwriter import bucket
from store.faults import Change, Fault, FaultStore, Notice


def remind(faults: FaultStore, fractions: list[float], now: float) -> None:
    """Queue the reminders due at ``now`` (a reminder passed over while the agent was down is
    recorded, not sent: only the latest one due goes out)."""
    for fault in faults.active():
        if fault.waived is not None:
            continue
        due: list[tuple[str, str, dict[str, Any]]] = []
        for window, deadline, done in (
            ("respond", fault.respond_by, fault.acknowledged is not None),
            ("resolve", fault.resolve_by, False),
        ):
            if done:
                continue
            span = deadline - fault.opened
            passed = [f for f in fractions if now >= fault.opened + f * span and f"{window}:{f:g}" not in fault.reminders]
            if now >= deadline:
                if f"{window}:overdue" not in fault.reminders:
                    due.append((f"{window}:overdue", "overdue", {"window": window, "deadline": deadline}))
                due.extend((f"{window}:{f:g}", "", {}) for f in passed)  # superseded, recorded only
            elif passed:
                latest = max(passed)
                due.append((f"{window}:{latest:g}", "reminder", {"window": window, "fraction": latest, "deadline": deadline}))
                due.extend((f"{window}:{f:g}", "", {}) for f in passed if f != latest)
        if not due:
            continue

        def mutate(f: Fault, due: list[tuple[str, str, dict[str, Any]]] = due) -> Change | None:
            if not f.active:
                return None
            change, marked = Change(), False
            for mark, kind, body in due:
                if mark in f.reminders:
                    continue
                f.reminders.append(mark)
                marked = True
                if kind:
                    change.events.append((kind, body))
                    change.notices.append(Notice(kind, None, bucket(f), f.level, body))
            return change if marked else None

        faults.update(fault.id, mutate, now)
