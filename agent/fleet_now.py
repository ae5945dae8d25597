"""The fleet's state now from plain inputs: shown states, degraded probes, the group online rate.

The definitions ``agent.fleet`` documents and re-exports; kept apart (standard library and
core only) so that ``yunwei status`` reads them without importing the running agent or the
config models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from core.model import State

if TYPE_CHECKING:
    from inventory.maintenance import Occurrence

StateMap = Mapping[str, tuple[State, float | None]]


@dataclass(frozen=True)
class DeviceNow:
    """One device as every face shows it."""

    device: str
    state: State  # UP, DOWN, UNKNOWN or MAINTENANCE
    since: float | None
    observed: State  # what the probes say, also inside a maintenance window
    degraded: tuple[str, ...] = ()  # probes confirmed failing while the device is up
    maintenance: Occurrence | None = None


@dataclass
class GroupRate:
    """A group's live online rate against its contract threshold."""

    group: str
    name: str
    online: int
    total: int
    threshold: float | None
    warn_margin: float
    # not yet seen (or unknown) and in maintenance: left out of the rate, as the contract's
    # monthly calculation leaves out unknown and maintenance time
    unknown: int = 0
    maintenance: int = 0

    @property
    def observed(self) -> int:
        return self.total - self.unknown - self.maintenance

    @property
    def offline(self) -> int:
        return self.observed - self.online

    @property
    def rate(self) -> float | None:
        return self.online / self.observed if self.observed > 0 else None

    def online_text(self, language: str = "en") -> str:
        """``37/40``, with what is left out: ``37/38 (2 unknown)``, ``37/38 (未知 2)``."""
        words = {"en": ("unknown", "maintenance"), "zh": ("未知", "维护中")}[language if language == "zh" else "en"]
        counts = ((self.unknown, words[0]), (self.maintenance, words[1]))
        if language == "zh":
            left_out = [f"{what} {n}" for n, what in counts if n]
        else:
            left_out = [f"{n} {what}" for n, what in counts if n]
        return f"{self.online}/{self.observed}" + (f" ({', '.join(left_out)})" if left_out else "")

    @property
    def level(self) -> str:
        """``breach`` below the threshold; ``warn`` from the threshold up to and including
        threshold + margin (95 % with a 1 % margin warns at 96 %, before the rate is lost);
        else ``ok``."""
        if self.rate is None or self.threshold is None:
            return "ok"
        if self.rate < self.threshold - 1e-12:
            return "breach"
        if self.warn_margin > 0 and self.rate <= self.threshold + self.warn_margin + 1e-12:
            return "warn"
        return "ok"


def states_now(observed: StateMap, covering: Mapping[str, Occurrence]) -> dict[str, tuple[State, float | None]]:
    """The shown state of every device: MAINTENANCE (since the window began) where a window covers it."""
    shown = dict(observed)
    for device_id, occurrence in covering.items():
        shown[device_id] = (State.MAINTENANCE, occurrence.start)
    return shown


def group_rate(group: Any, members: Iterable[Any], states: StateMap, today: date) -> GroupRate:
    """The one "group online rate now": online / observed members (see the module doc)."""
    member_states = [states.get(m.id, (State.UNKNOWN, None))[0] for m in members]
    target = group.online_rate
    return GroupRate(
        group=group.id,
        name=group.name or group.id,
        online=member_states.count(State.UP),
        total=len(member_states),
        unknown=member_states.count(State.UNKNOWN),
        maintenance=member_states.count(State.MAINTENANCE),
        threshold=target.threshold_on(today) if target else None,
        warn_margin=target.warn_margin if target else 0.0,
    )


def group_rates(inventory: Any, states: StateMap, today: date | None = None) -> list[GroupRate]:
    """``group_rate`` of every group with members; ``states`` are shown states (``states_now``)."""
    today = today or datetime.now(ZoneInfo(inventory.agent.timezone)).date()
    members: dict[str, list[Any]] = {}
    for device in inventory.devices.values():
        if device.group:
            members.setdefault(device.group, []).append(device)
    return [group_rate(group, members[g], states, today) for g, group in inventory.groups.items() if members.get(g)]


def degraded_probes(device: Any, observed: State, probe_ok: Mapping[str, bool | None]) -> tuple[str, ...]:
    """The device's probes confirmed failing while its online rule holds (in-round probes only)."""
    if observed != State.UP or False not in probe_ok.values():
        return ()
    return tuple(sorted(name for name in device.probes if probe_ok.get(name) is False))
