"""The values that flow from collectors to the store, alerting and exporters."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum


class State(StrEnum):
    """A device's confirmed state as the ledger records it."""

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"


@dataclass(slots=True)
class Sample:
    """One probe's result for one device in one round.

    ``ok`` says whether the probe found the device alive by its own semantics (an RTSP 401
    without configured credentials is alive, for example). ``error`` explains a failure in
    words an engineer can act on. ``metrics`` are numbers for graphs and thresholds,
    ``info`` strings worth showing (status text, sysName, firmware).
    """

    device: str
    probe: str
    ok: bool
    ts: float = field(default_factory=time.time)
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    info: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "device": self.device,
            "probe": self.probe,
            "ok": self.ok,
            "ts": self.ts,
            "metrics": dict(self.metrics),
            "error": self.error,
            "info": dict(self.info),
        }


@dataclass(slots=True, frozen=True)
class Transition:
    """A confirmed change of a device's state, dated from the first sample that showed it."""

    device: str
    at: float
    state: State
    previous: State
    cause: str = ""
