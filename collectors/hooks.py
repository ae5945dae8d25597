"""Components the collectors' area attaches to a running agent (``HOOK_MODULES``).

- ``FactsRecorder``: a collector may report slow-changing device facts (model, firmware,
  serial ...) as ``Sample.info`` keys starting with ``fact.``; they are stored with
  ``Store.set_facts`` (only when they changed, so a round of 1,500 cameras writes nothing new);
- the meeting-readiness scheduler (``agent.meetings``): a check of every venue before each
  configured meeting, filed in the ledger;
- the SSH inspection scheduler (``agent.inspections``): scheduled inspections, filed in the
  ledger.
- ``UpsMemory`` (``collectors.ups``): a restarted agent takes up each UPS's "on battery
  since" from the store's last sample of it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.runtime import Agent, Component, RoundResult

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


def attach(agent: Agent) -> list[Component]:
    """The components of this area for ``agent``."""
    from agent.inspections import InspectionScheduler
    from agent.meetings import MeetingScheduler
    from collectors.ups import UpsMemory

    components: list[Any] = [FactsRecorder(), InspectionScheduler(), MeetingScheduler(), UpsMemory()]
    return components
