"""When a fault is a recurrence (重复故障, an incomplete fix): one rule for the chat and the report.

The compliance calculator charges a recurrence; alerting's message may only call a fault
recurring when the calculator would. A fault recurs when an earlier fault on the same target
(device, else system, else unit) was resolved no longer than the window before it opened,
with the same cause (when both give one and the contract matches causes), and, by default
(``after_fix``), only when the earlier one was *fixed* by someone: a device that came back on
its own, a fault absorbed into another, ended by flapping or a maintenance window, or waived,
was not a fix, so it cannot have been an incomplete one.
"""

from __future__ import annotations

from dataclasses import dataclass

# how alerting says a fault ended without anyone fixing it
NOT_FIXED = frozenset({"auto", "absorbed", "flapping", "maintenance_end", "removed"})


@dataclass(frozen=True)
class RecurrenceRule:
    window_seconds: float
    match_cause: bool = True
    after_fix: bool = True

    def repeats(self, opened: float, cause: str, previous_resolved: float | None, previous_cause: str,
                previous_fixed: bool) -> bool:
        """Does a fault opened at ``opened`` with ``cause`` repeat the previous one?"""
        if self.window_seconds <= 0 or previous_resolved is None or previous_resolved > opened:
            return False
        if opened - previous_resolved > self.window_seconds:
            return False
        if self.after_fix and not previous_fixed:
            return False
        return not (self.match_cause and previous_cause and cause and previous_cause != cause)


def was_fixed(resolved: float | None, resolved_how: str | None, waived_counts: bool) -> bool:
    """Resolved by someone's fix: not by the device coming back on its own, not absorbed, not waived."""
    return resolved is not None and resolved_how not in NOT_FIXED and not waived_counts


def fault_target(device: str | None, system: str | None, unit: str | None) -> str:
    """What a recurrence is counted on: the device, else the system, else the unit."""
    return device or system or unit or ""
