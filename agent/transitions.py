"""Debounced status: samples in, confirmed transitions out, only ever forward in time.

Each probe of a device is debounced on its own: ``down_after`` consecutive failures confirm it
down, dated from the first of them; ``up_after`` consecutive successes confirm it up, dated
from the first of those. Each probe so has a timeline of confirmed values. The device's online
rule is evaluated over those timelines, and the device changes state where the rule's value
changes (e.g. ``any(icmp, sip)`` goes down when the *last* probe went down). A flap shorter
than the debounce never becomes an outage.

Probes of one device run in different rounds (``any(icmp, sip)``: icmp every 30 s, sip every
60 s), so what a probe did at a moment may be learnt after another probe's later round. A
probe's timeline is therefore *final* only up to its newest sample (or up to the start of a
streak that could still be confirmed and rewrite it). A device's changes are recorded up to the
moment every probe its rule reads is final (the watermark), so a transition is never dated
before one already recorded and the time-weighted online rate the ledger integrates to is the
one the raw samples give (tests/agent/test_transitions_order.py). The cost is latency, at most
one interval of the rule's slowest probe, and only for devices whose rule reads several probes.
While the rule cannot be decided (a probe never confirmed yet), the device keeps its state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from core.model import Sample, State, Transition
from inventory.config import Inventory
from inventory.models import DebounceSettings
from inventory.online import Rule, parse_rule

_NEVER = float("-inf")


@dataclass(slots=True)
class _ProbeState:
    confirmed: bool | None = None
    since: float | None = None
    streak_value: bool | None = None
    streak_count: int = 0
    streak_start: float = 0.0
    last_error: str | None = None
    last_ts: float = _NEVER
    # confirmed changes (since, value), oldest first; pruned to what the device may still need
    history: list[tuple[float, bool]] = field(default_factory=list)

    def final_until(self) -> float:
        """The latest moment whose confirmed value can no longer change."""
        if self.streak_value is not None and self.streak_value is not self.confirmed:
            return self.streak_start - 1e-9  # a streak under way may still be confirmed from its start
        return self.last_ts

    def value_at(self, moment: float) -> bool | None:
        """The confirmed value at ``moment``; None when not final (or never confirmed) there."""
        if moment > self.final_until():
            return None
        value = None
        for since, confirmed in self.history:
            if since > moment:
                break
            value = confirmed
        return value


@dataclass(slots=True)
class _DeviceState:
    rule: Rule
    state: State = State.UNKNOWN
    since: float | None = None


class StatusTracker:
    """Holds every device's debounce state; ``observe`` returns the transitions a batch confirms."""

    def __init__(
        self,
        inventory: Inventory,
        debounce: DebounceSettings | None = None,
        initial: Mapping[str, tuple[State, float]] | None = None,
        initial_probes: Mapping[tuple[str, str], tuple[bool, float]] | None = None,
    ) -> None:
        self.debounce = debounce or inventory.agent.debounce
        self.devices: dict[str, _DeviceState] = {}
        self.probes: dict[str, dict[str, _ProbeState]] = {}
        # (device, probe, confirmed ok, since) of every probe whose confirmed state changed
        # since the last ``take_probe_changes`` (the store keeps them for ``status`` and restarts)
        self.probe_changes: list[tuple[str, str, bool, float]] = []
        self.reload(inventory, initial or {}, initial_probes or {})

    def reload(
        self,
        inventory: Inventory,
        initial: Mapping[str, tuple[State, float]] | None = None,
        initial_probes: Mapping[tuple[str, str], tuple[bool, float]] | None = None,
    ) -> None:
        """Adopt a new inventory, keeping the state of devices that are still there."""
        initial = initial or {}
        initial_probes = initial_probes or {}
        devices: dict[str, _DeviceState] = {}
        probes: dict[str, dict[str, _ProbeState]] = {}
        for device_id, device in inventory.devices.items():
            old = self.devices.get(device_id)
            state, since = (old.state, old.since) if old else initial.get(device_id, (State.UNKNOWN, None))
            devices[device_id] = _DeviceState(rule=parse_rule(device.online), state=State(state), since=since)
            old_probes = self.probes.get(device_id, {})
            probes[device_id] = {}
            for name in device.probes:
                probe = old_probes.get(name)
                if probe is None:
                    probe = _ProbeState()
                    if (device_id, name) in initial_probes:
                        ok, probe_since = initial_probes[(device_id, name)]
                        probe.confirmed, probe.since, probe.last_ts = ok, probe_since, probe_since
                        probe.streak_value, probe.history = ok, [(probe_since, ok)]
                probes[device_id][name] = probe
        self.devices, self.probes = devices, probes

    def probe_ok(self, device_id: str) -> dict[str, bool | None]:
        """Each probe's confirmed (debounced) result: True, False, or None before it is known."""
        return {name: probe.confirmed for name, probe in self.probes.get(device_id, {}).items()}

    def pending(self, device_id: str, probe_name: str) -> bool:
        """True while the probe's last samples start a change not confirmed yet (a streak under way)."""
        probe = self.probes.get(device_id, {}).get(probe_name)
        return probe is not None and probe.streak_value is not None and probe.streak_value is not probe.confirmed

    def take_probe_changes(self) -> list[tuple[str, str, bool, float]]:
        changes, self.probe_changes = self.probe_changes, []
        return changes

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
            if sample.ts < probe.last_ts:
                continue  # older than what this probe already said (a duplicate or a clock step)
            if self._debounce(probe, sample):
                self.probe_changes.append((sample.device, sample.probe, sample.ok, probe.since or sample.ts))
            touched.add(sample.device)
        transitions = []
        for device_id in sorted(touched):
            transitions.extend(self._advance(device_id))
        return transitions

    def _advance(self, device_id: str) -> list[Transition]:
        """Record the device's changes from its last transition on, as far as final timelines decide."""
        device = self.devices[device_id]
        probes = self.probes[device_id]
        read = [probes[name] for name in device.rule.probes() if name in probes]
        watermark = min((p.final_until() for p in read), default=_NEVER)
        start = _NEVER if device.since is None else device.since
        moments = sorted({start} | {since for p in read for since, _ in p.history if since > start})
        transitions = []
        for moment in moments:
            if moment == _NEVER:
                continue
            if moment > watermark:
                break  # another probe has not spoken for this moment yet: its next round will tell
            value = device.rule.evaluate({name: p.value_at(moment) for name, p in probes.items()})
            if value is None:
                continue  # a probe never confirmed yet: the device keeps its state
            new_state = State.UP if value else State.DOWN
            if new_state != device.state:
                cause = "" if value else (self.last_error(device_id) or "no answer")
                transitions.append(Transition(device_id, moment, new_state, device.state, cause))
                device.state, device.since = new_state, moment
        for probe in probes.values():
            self._prune_history(probe, device.since)
        return transitions

    @staticmethod
    def _prune_history(probe: _ProbeState, since: float | None) -> None:
        """Keep the last change at or before ``since`` (the value there) and every later one."""
        if since is None or len(probe.history) < 2:
            return
        keep_from = 0
        for index, (moment, _) in enumerate(probe.history):
            if moment <= since:
                keep_from = index
        if keep_from:
            del probe.history[:keep_from]

    def _debounce(self, probe: _ProbeState, sample: Sample) -> bool:
        """Feed one sample to its probe's streak; True when the probe's confirmed state changed."""
        probe.last_error = None if sample.ok else (sample.error or "failed")
        probe.last_ts = sample.ts
        if probe.streak_value is sample.ok:
            probe.streak_count += 1
        else:
            probe.streak_value, probe.streak_count, probe.streak_start = sample.ok, 1, sample.ts
        if probe.confirmed is sample.ok:
            return False
        needed = self.debounce.up_after if sample.ok else self.debounce.down_after
        if probe.streak_count >= needed:
            probe.confirmed, probe.since = sample.ok, probe.streak_start
            probe.history.append((probe.streak_start, sample.ok))
            return True
        return False
