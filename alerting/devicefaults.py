"""Faults of one device beyond "down": threshold breaches, degraded devices, flapping."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from alerting.faultwriter import FaultWriter, set_extra
from alerting.thresholds import Crossing, ThresholdWatch
from core.model import Sample, State
from inventory.maintenance import Occurrence
from store.faults import Fault


class DeviceFaults(FaultWriter):
    """The engine's threshold, degraded and flapping faults."""

    states: dict[str, tuple[State, float]]
    flaps: dict[str, deque[float]]
    thresholds: ThresholdWatch

    def _degraded(
        self, degraded: Mapping[str, tuple[str, ...]], samples: list[Sample], maintenance: dict[str, Occurrence], now: float
    ) -> None:
        """A fault per device that is up while another of its probes fails (snmpd dead on a switch
        that pings): level 4 unless the contract's rules say more; it never touches the online rate."""
        active = {f.key: f for f in self.faults.active() if f.source == "degraded"}
        errors = {(s.device, s.probe): s.error for s in samples if not s.ok and s.error}
        for device_id, probes in degraded.items():
            key = f"degraded:{device_id}"
            if key in active or device_id not in self.inventory.devices or device_id in maintenance:
                continue
            details = [f"{probe}: {errors[(device_id, probe)]}" if (device_id, probe) in errors else probe for probe in probes]
            cause = self._text(f"degraded, failing: {'; '.join(details)}", f"部分功能异常: {'; '.join(details)}")
            self._open("degraded", key, key, cause, now, now, device=device_id, fixed_level=4, extra={"probes": list(probes)})
        for fault in active.values():
            if fault.device not in degraded:
                self._resolve(fault, now, now, "auto")

    def _threshold(self, crossing: Crossing, now: float) -> None:
        rule = crossing.rule
        active = {f.key: f for f in self.faults.active()}
        if crossing.opened:
            if crossing.key in active:
                return
            last = self.faults.last_for_key(crossing.key)
            if last is not None and last.resolved_how == "manual" and (last.resolved or 0) >= crossing.since:
                return  # an engineer closed this breach by hand; a new breach will open again
            cause = threshold_cause(rule.label, rule.metric, rule.op, crossing.value, crossing.limit)
            self._open(
                "threshold",
                crossing.key,
                crossing.key,
                cause,
                crossing.since,
                now,
                device=crossing.device,
                metric=rule.metric,
                fixed_level=rule.level,
                extra={"metric": rule.metric, "value": crossing.value, "limit": crossing.limit, "rule": rule.name},
            )
        elif crossing.key in active:
            self._resolve(active[crossing.key], crossing.since, now, "auto")

    def _flapping(self, now: float, active: dict[str, Fault], maintenance: dict[str, Occurrence]) -> set[str]:
        """Devices with an open flapping fault (opening new ones, closing stable ones)."""
        settings = self.config.flapping
        window = settings.minutes * 60
        stable = (settings.stable_minutes or settings.minutes) * 60
        result: set[str] = set()
        for device_id, history in list(self.flaps.items()):
            while history and history[0] < now - window:
                history.popleft()
            if not history:
                del self.flaps[device_id]
        for device_id, history in self.flaps.items():
            if device_id not in self.inventory.devices or f"flapping:{device_id}" in active:
                continue
            if len(history) >= settings.count and device_id not in maintenance:
                cause = self._text(
                    f"{len(history)} outages in {settings.minutes:g} min", f"{settings.minutes:g} 分钟内中断 {len(history)} 次"
                )
                fault = self._open(
                    "flapping",
                    f"flapping:{device_id}",
                    f"down:{device_id}",
                    cause,
                    now,
                    now,
                    device=device_id,
                    extra={"flaps": len(history), "first_flap": history[0]},
                )
                own = active.get(f"down:{device_id}")
                if fault is not None and own is not None:
                    self._absorb(own, fault, now)
        for fault in self.faults.active():
            if fault.source != "flapping" or fault.device is None:
                continue
            state, since = self.states.get(fault.device, (State.UNKNOWN, now))
            if fault.device not in self.inventory.devices:
                self._resolve(fault, now, now, "removed")
            elif state == State.UP and now - since >= stable:
                self._resolve(fault, since, now, "auto")
            else:
                result.add(fault.device)
                history = self.flaps.get(fault.device)
                if history and len(history) != fault.extra.get("flaps"):
                    count = len(history)
                    self.faults.update(fault.id, lambda f, n=count: set_extra(f, "flaps", n), now)
        return result


def threshold_cause(label: str, metric: str, op: str, value: float, limit: float) -> str:
    """``丢包率: 35 > 20``; a flag rule (``on_battery == 1``) with a label says just the label."""
    if label and op in ("==", "!=") and limit in (0, 1):
        return label
    return f"{label or metric}: {_figure(value)} {op} {_figure(limit)}"


def _figure(number: float) -> str:
    """Four significant digits, but a large whole number in full (10800 s, not 1.08e+04)."""
    return f"{number:.0f}" if abs(number) >= 1e4 and float(number).is_integer() else f"{number:.4g}"
