"""Faults found at start: recorded as usual, told in one chat message.

When the agent starts, devices that were already down before it (first seen down in its first
round, ``agent.first_round``) would each open a fault and post it, 20 messages in one burst
for problems that existed before. While the start lasts, such faults are still opened and
recorded in the ledger with their deadlines, but their chat notices are held back (their
opening, an escalation, a recovery before the start is over); when the start is over (the first
round is done and none of those devices still waits for its hold) one message says
``启动: 180 台在线, 20 台离线 …`` and lists the worst of them with their levels. A fault
opened after that, or for a device that was up at start, is posted as today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from alerting.messages import Composer, Text
from alerting.notifiers.base import SEVERITY_OF_LEVEL
from core.model import State, Transition
from store.faults import Fault, Notice

FOLDED_SOURCES = ("down", "group", "flapping")
# after the first round is over, the start ends at the latest once holds and grace periods ran out
SETTLE_MARGIN = 60.0


@dataclass
class StartupFold:
    """The start's state inside the fault engine (alerting.engine)."""

    started: float
    devices: set[str] = field(default_factory=set)  # first seen down in the first round
    faults: list[str] = field(default_factory=list)  # faults opened for them, notices held back
    first_round_done: bool = False
    first_round_done_at: float | None = None

    def observe(self, transitions: Iterable[Transition], first_round_done: bool | None, now: float) -> None:
        """Take a round's transitions: those out of UNKNOWN into DOWN belong to the start while
        the first round lasts (the round that ends it included)."""
        if not self.first_round_done:
            self.devices.update(t.device for t in transitions if t.previous == State.UNKNOWN and t.state == State.DOWN)
        if first_round_done and not self.first_round_done:
            self.first_round_done, self.first_round_done_at = True, now

    def folds(self, source: str, devices: Iterable[str | None]) -> bool:
        """True when a fault about these devices is one found at start."""
        named = [d for d in devices if d]
        return source in FOLDED_SOURCES and bool(named) and all(d in self.devices for d in named)

    def over(self, now: float, waiting: set[str], settle_seconds: float) -> bool:
        """The start is over: first round done, and no device of the start waits for its fault."""
        if not self.first_round_done:
            return False
        assert self.first_round_done_at is not None
        return not (waiting & self.devices) or now >= self.first_round_done_at + settle_seconds + SETTLE_MARGIN

    def notice(self, counts: dict[str, int], active: Iterable[Fault]) -> Notice | None:
        """The one startup notice, if any fault was folded (a quiet start posts nothing)."""
        if not self.faults:
            return None
        folded = set(self.faults)
        still = [f.id for f in active if f.id in folded]
        return Notice("startup", None, "", None, {**counts, "faults": still, "folded": len(self.faults)})


def startup_counts(states: dict[str, tuple[State, float | None]], devices: Iterable[str]) -> dict[str, int]:
    counts = {"up": 0, "down": 0, "maintenance": 0, "unknown": 0}
    for device_id in devices:
        state = State(states.get(device_id, (State.UNKNOWN, None))[0])
        counts[{State.UP: "up", State.DOWN: "down", State.MAINTENANCE: "maintenance"}.get(state, "unknown")] += 1
    return counts


def startup_text(composer: Composer, body: dict[str, Any], faults: list[Fault], now: float, rates: list[str] | None = None) -> Text:
    """``启动: 180 台在线, 20 台离线 · 故障 3 个`` and the worst faults, each with its level and deadlines."""
    zh = composer.language == "zh"
    parts = [f"{body['up']} 台在线", f"{body['down']} 台离线"] if zh else [f"{body['up']} online", f"{body['down']} offline"]
    if body.get("maintenance"):
        parts.append(f"{body['maintenance']} 台维护中" if zh else f"{body['maintenance']} in maintenance")
    if body.get("unknown"):
        parts.append(f"{body['unknown']} 台未知" if zh else f"{body['unknown']} not known yet")
    title = ("启动: " if zh else "Started: ") + ", ".join(parts)
    live = sorted((f for f in faults if f.active), key=lambda f: (f.level, f.respond_by, f.id))
    lines = []
    if live:
        title += f" · 故障 {len(live)} 个" if zh else f" · {len(live)} faults"
        lines.append(
            "- 以下故障在启动前已存在, 已记入台账并按时限计时:" if zh
            else "- Faults that existed before the start, recorded in the ledger with their deadlines:"
        )
    for fault in live[: composer.list_max]:
        level = composer.policy.name(fault.level, fault.unit, fault.system, composer.language)
        extra = f", {composer.impact(fault)}" if fault.affected else ""
        lines.append(
            f"- {fault.id} {composer.tag(level).strip()} {composer.describe(fault)}{extra} · "
            f"{composer.t('respond_by')} {composer.when(fault.respond_by, now)} · "
            f"{composer.t('resolve_by')} {composer.when(fault.resolve_by, now)}"
        )
    if len(live) > composer.list_max:
        lines.append(composer.t("more", n=len(live) - composer.list_max))
    lines.extend(composer.bold("online_rate", rate) for rate in rates or [])  # of the groups these faults touch
    severity = SEVERITY_OF_LEVEL.get(live[0].level, "minor") if live else "info"
    return Text(title, lines, severity)
