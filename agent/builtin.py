"""The agent's own components, attached to every agent.

- ``FactsRecorder``: a collector may report slow-changing device facts (model, firmware,
  serial ...) as ``Sample.info`` keys starting with ``fact.``; they are stored with
  ``Store.set_facts`` (only when they changed, so a round of 1,500 cameras writes nothing new);
- ``UpsMemory``: a restarted agent takes up each UPS's "on battery since" from the store's last
  sample of it;
- the meeting-readiness and SSH inspection schedulers (``agent.meetings``, ``agent.inspections``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from collectors.ups import UpsCollector

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult
    from inventory.config import Inventory

log = logging.getLogger("yunwei.facts")

FACT_PREFIX = "fact."


def facts_of(info: dict[str, str]) -> dict[str, str]:
    """The ``fact.*`` entries of a sample's info, without the prefix."""
    return {key[len(FACT_PREFIX) :]: value for key, value in info.items() if key.startswith(FACT_PREFIX) and value}


class FactsRecorder:
    """Stores the ``fact.*`` info of every sample as device facts when they change."""

    def __init__(self) -> None:
        self.agent: Agent | None = None
        self.known: dict[str, dict[str, str]] = {}

    async def start(self, agent: Agent) -> None:
        self.agent = agent

    async def on_round(self, result: RoundResult) -> None:
        if self.agent is None:
            return
        changed: dict[str, dict[str, str]] = {}
        for sample in result.samples:
            facts = facts_of(sample.info)
            if not facts:
                continue
            known = self.known.get(sample.device)
            if known is None:
                known = await self.agent.in_writer(self.agent.db.facts, sample.device)
                self.known[sample.device] = known
            new = {k: v for k, v in facts.items() if known.get(k) != v}
            if new:
                changed.setdefault(sample.device, {}).update(new)
        for device, facts in changed.items():
            await self.agent.in_writer(self.agent.db.set_facts, device, facts)
            self.known[device].update(facts)
            log.info("facts of %s: %s", device, ", ".join(f"{k}={v}" for k, v in sorted(facts.items())))

    async def stop(self) -> None:
        pass


class UpsMemory:
    """Agent component: a restarted agent takes up each UPS's "on battery since" (and state
    since) from the store's last sample of it, instead of counting from its first new round."""

    def __init__(self) -> None:
        self.agent: Agent | None = None

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        await self._restore()

    async def on_round(self, result: RoundResult) -> None:
        pass

    async def on_reload(self, inventory: Inventory) -> None:
        await self._restore()  # UPS units (or the ups collector) new to this agent

    async def stop(self) -> None:
        pass

    async def _restore(self) -> None:
        agent = self.agent
        collector = agent.collectors.get(UpsCollector.name) if agent is not None else None
        if agent is None or not isinstance(collector, UpsCollector):
            return
        wanted = {
            (t.device.id, t.probe.name) for (name, _), targets in agent.groups.items() if name == UpsCollector.name for t in targets
        } - set(collector.trackers)
        if wanted:
            latest = await agent.in_writer(agent.db.latest_samples)
            collector.restore(s for s in latest if (s.device, s.probe) in wanted)
