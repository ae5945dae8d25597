"""Debounced status: samples in, confirmed transitions out.

Each probe of a device is debounced on its own: ``down_after`` consecutive failures confirm it
down, dated from the first of them; ``up_after`` consecutive successes confirm it up, dated
from the first of those. The device's online rule is then evaluated over the probes' confirmed
states, and the device changes state when the rule's value changes, dated from the moment the
rule's inputs made it change (e.g. ``any(icmp, sip)`` goes down when the *last* probe went down).
A flap shorter than the debounce never becomes an outage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.model import Sample, State, Transition
from inventory.config import Inventory
from inventory.models import DebounceSettings
from inventory.online import Rule, parse_rule


@dataclass(slots=True)
class _ProbeState:
    confirmed: bool | None = None
    since: float | None = None
    streak_value: bool | None = None
    streak_count: int = 0
    streak_start: float = 0.0
    last_error: str | None = None


@dataclass(slots=True)
class _DeviceState:
    rule: Rule
    state: State = State.UNKNOWN
    since: float | None = None


def _evaluate(rule: Rule, probes: Mapping[str, _ProbeState]) -> tuple[bool | None, float | None]:
    """The rule's value and since when it has held, from the probes' confirmed states."""
    if rule.op == "probe":
        probe = probes.get(rule.name)
        return (None, None) if probe is None else (probe.confirmed, probe.since)
    values = [_evaluate(arg, probes) for arg in rule.args]
    trues = [since for value, since in values if value is True and since is not None]
    falses = [since for value, since in values if value is False and since is not None]
    unknown = any(value is None for value, _ in values)
    if rule.op == "any":
        if trues:
            return True, min(trues)
        return (None, None) if unknown else (False, max(falses))
    if falses:
        return False, min(falses)
    return (None, None) if unknown else (True, max(trues))


class StatusTracker:
    """Holds every device's debounce state; ``observe`` returns the transitions a batch confirms."""

    def __init__(
        self,
        inventory: Inventory,
        debounce: DebounceSettings | None = None,
        initial: Mapping[str, tuple[State, float]] | None = None,
    ) -> None:
        self.debounce = debounce or inventory.agent.debounce
        self.devices: dict[str, _DeviceState] = {}
        self.probes: dict[str, dict[str, _ProbeState]] = {}
        self.reload(inventory, initial or {})

    def reload(self, inventory: Inventory, initial: Mapping[str, tuple[State, float]] | None = None) -> None:
        """Adopt a new inventory, keeping the state of devices that are still there."""
        initial = initial or {}
        devices: dict[str, _DeviceState] = {}
        probes: dict[str, dict[str, _ProbeState]] = {}
        for device_id, device in inventory.devices.items():
            old = self.devices.get(device_id)
            state, since = (old.state, old.since) if old else initial.get(device_id, (State.UNKNOWN, None))
            devices[device_id] = _DeviceState(rule=parse_rule(device.online), state=State(state), since=since)
            old_probes = self.probes.get(device_id, {})
            probes[device_id] = {name: old_probes.get(name, _ProbeState()) for name in device.probes}
        self.devices, self.probes = devices, probes

    def state(self, device_id: str) -> tuple[State, float | None]:
        device = self.devices[device_id]
        return device.state, device.since

    def last_error(self, device_id: str) -> str | None:
        errors = [p.last_error for p in self.probes.get(device_id, {}).values() if p.last_error]
        return "; ".join(errors) or None

    def observe(self, samples: Iterable[Sample]) -> list[Transition]:
        touched: set[str] = set()
        for sample in sorted(samples, key=lambda s: s.ts):
            probe = self.probes.get(sample.device, {}).get(sample.probe)
            if probe is None:
                continue  # a device or probe removed by a reload while its round ran
            self._debounce(probe, sample)
            touched.add(sample.device)
        transitions = []
        for device_id in sorted(touched):
            device = self.devices[device_id]
            value, since = _evaluate(device.rule, self.probes[device_id])
            if value is None or since is None:
                continue
            new_state = State.UP if value else State.DOWN
            if new_state != device.state:
                cause = "" if value else (self.last_error(device_id) or "no answer")
                transitions.append(Transition(device_id, since, new_state, device.state, cause))
                device.state, device.since = new_state, since
        return transitions

    def _debounce(self, probe: _ProbeState, sample: Sample) -> None:
        probe.last_error = None if sample.ok else (sample.error or "failed")
        if probe.streak_value is sample.ok:
            probe.streak_count += 1
        else:
            probe.streak_value, probe.streak_count, probe.streak_start = sample.ok, 1, sample.ts
        if probe.confirmed is sample.ok:
            return
        needed = self.debounce.up_after if sample.ok else self.debounce.down_after
        if probe.streak_count >= needed:
            probe.confirmed, probe.since = sample.ok, probe.streak_start
