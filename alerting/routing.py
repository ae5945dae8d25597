"""Routes: which channels hear about a notice, and whom each @-s."""

from __future__ import annotations

from dataclasses import dataclass, field

from alerting.config import AlertingConfig, Route


@dataclass
class Mentions:
    mobiles: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    all: bool = False

    def add(self, route: Route) -> None:
        self.mobiles.extend(m for m in route.mention_mobiles if m not in self.mobiles)
        self.user_ids.extend(u for u in route.mention_user_ids if u not in self.user_ids)
        self.all = self.all or route.mention_all

    def merge(self, other: Mentions) -> None:
        self.mobiles.extend(m for m in other.mobiles if m not in self.mobiles)
        self.user_ids.extend(u for u in other.user_ids if u not in self.user_ids)
        self.all = self.all or other.all


@dataclass
class Target:
    """What a notice is about, as far as routes can tell."""

    event: str
    level: int | None = None
    unit: str | None = None
    system: str | None = None
    group: str | None = None
    kind: str | None = None


def matches(route: Route, target: Target) -> bool:
    checks = (
        (route.units, target.unit),
        (route.systems, target.system),
        (route.groups, target.group),
        (route.kinds, target.kind),
        (route.levels, target.level),
        (route.events, target.event),
    )
    return not any(wanted and value not in wanted for wanted, value in checks)


def route(config: AlertingConfig, target: Target) -> dict[str, Mentions]:
    """Channel name → whom to @ there, for every route matching ``target`` (in order, until ``stop``)."""
    result: dict[str, Mentions] = {}
    for candidate in config.routes:
        if not matches(candidate, target):
            continue
        for channel in candidate.channels:
            mentions = result.setdefault(channel, Mentions())
            if target.event in candidate.mention_on:
                mentions.add(candidate)
        if candidate.stop:
            break
    return result
