"""Group faults: many members of a group down on their own, or its online rate under the
contract's threshold; and the one warning when the rate nears the threshold."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from agent.fleet import group_rate, states_now
from alerting.faultwriter import FaultWriter
from core.model import State
from inventory.maintenance import Occurrence
from store.faults import Change, Fault, Notice


class GroupFaults(FaultWriter):
    """The engine's group faults and online-rate warnings."""

    states: dict[str, tuple[State, float]]
    zone: ZoneInfo
    group_pending: dict[str, float]
    group_since: dict[str, float]
    warned: dict[str, bool]

    def _group(
        self,
        group_id: str,
        members: list[str],
        down: set[str],
        roots: set[str],
        maintenance: dict[str, Occurrence],
        flapping: set[str],
        active: dict[str, Fault],
        behind: dict[str, list[str]],
        now: float,
    ) -> None:
        settings = self.config.group_faults
        group = self.inventory.groups.get(group_id)
        key = f"group:{group_id}"
        fault = active.get(key)
        counted = [m for m in members if m not in maintenance]
        if group is None or not counted:
            if fault is not None:
                self._resolve(fault, now, now, "removed")
            return
        today = datetime.fromtimestamp(now, self.zone).date()
        now_rate = group_rate(group, [self.inventory.devices[m] for m in members], states_now(self.states, maintenance), today)
        if now_rate.rate is None:  # no member seen yet: nothing to judge
            if fault is not None:
                self._resolve(fault, now, now, "auto")
            return
        rate, total, threshold = now_rate.rate, now_rate.observed, now_rate.threshold
        offline = [m for m in counted if m in down]
        own = [m for m in counted if m in roots and m not in flapping]
        target = group.online_rate
        mass = settings.enabled and len(own) >= settings.min_devices and len(own) / total >= settings.offline_ratio - 1e-12
        breach = threshold is not None and rate < threshold - 1e-12 and len(own) >= 1
        self._warn(group_id, rate, threshold, target.warn_margin if target else 0.0, now)
        if mass or breach:
            self.group_since.setdefault(group_id, now)
            if fault is None:
                first = self.group_pending.setdefault(group_id, now)
                if now < first + self.config.hold_seconds:
                    return
                last = self.faults.last_for_key(key)
                if last is not None and last.resolved_how == "manual" and (last.resolved or 0) >= self.group_since[group_id]:
                    return
                cause = self._group_cause(len(offline), total, rate, threshold)
                affected = sorted(set(own) | {b for m in own for b in behind.get(m, [])})
                self._open(
                    "group",
                    key,
                    key,
                    cause,
                    now,
                    now,
                    group=group_id,
                    affected=affected,
                    extra={"rate": rate, "threshold": threshold, "offline": len(offline), "total": total},
                )
                self.group_pending.pop(group_id, None)
            elif abs(fault.extra.get("rate", -1) - rate) > 1e-9:
                cause = self._group_cause(len(offline), total, rate, threshold)
                self.faults.update(fault.id, lambda f: set_rate(f, rate, len(offline), total, cause), now)
        else:
            self.group_pending.pop(group_id, None)
            self.group_since.pop(group_id, None)
            if fault is not None:
                self._resolve(fault, now, now, "auto")

    def _group_cause(self, offline: int, total: int, rate: float, threshold: float | None) -> str:
        if threshold is None:
            return self._text(f"{offline}/{total} offline", f"{offline}/{total} 台离线")
        return self._text(
            f"{offline}/{total} offline, online rate {rate:.1%} (threshold {threshold:.0%})",
            f"{offline}/{total} 台离线, 在线率 {rate:.1%} (阈值 {threshold:.0%})",
        )

    def _warn(self, group_id: str, rate: float, threshold: float | None, margin: float, now: float) -> None:
        """One warning when a group's rate falls within ``warn_margin`` above its threshold."""
        if threshold is None or margin <= 0:
            return
        key = f"warned:{group_id}"
        if key not in self.warned:
            self.warned[key] = bool(self.faults.kv_get(key, False))
        warned = self.warned[key]
        if rate >= threshold + margin - 1e-12:
            if warned:
                self.warned[key] = False
                self.faults.kv_set(key, False)
        elif not warned:
            self.warned[key] = True
            self.faults.kv_set(key, True)
            if rate >= threshold - 1e-12:
                body = {"rate": rate, "threshold": threshold, "margin": margin}
                self.faults.add_notices([Notice("warn", None, group_id, None, body)], now)


def set_rate(fault: Fault, rate: float, offline: int, total: int, cause: str) -> Change | None:
    if not fault.active:
        return None
    fault.extra.update({"rate": rate, "offline": offline, "total": total})
    fault.cause = cause
    return Change()
