"""Exporters as a plugin: the ``exporters:`` section and the hub attached to the agent.

One component, the hub, feeds every enabled exporter from the agent's rounds and reconciles
them on SIGHUP: an exporter whose settings changed is restarted, a removed one stopped, a new
one started. Its spool survives all of that (it lives in the store).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from agent.runtime import Agent, Component, RoundResult, register_component
from exporters.base import EXPORTERS, Exporter
from exporters.section import ExportersConfig
from inventory.plugins import register_section

if TYPE_CHECKING:
    from inventory.config import Inventory

log = logging.getLogger("yunwei.exporters")


class ExporterHub:
    """The component that owns the running exporters."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.running: dict[str, Exporter] = {}

    def exporters(self) -> list[Exporter]:
        return list(self.running.values())

    async def start(self, agent: Agent) -> None:
        self.agent = agent
        await self._reconcile(strict=True)  # at start, an exporter that cannot start stops the agent

    async def on_round(self, result: RoundResult) -> None:
        for exporter in list(self.running.values()):
            exporter.submit(result)

    async def on_reload(self, inventory: Inventory) -> None:
        await self._reconcile(strict=False)  # on SIGHUP it is logged and the agent keeps running
        for exporter in self.running.values():
            exporter.reload(self.agent)

    async def stop(self) -> None:
        for name in reversed(list(self.running)):
            exporter = self.running.pop(name)
            try:
                await exporter.stop()
            except Exception:
                log.exception("exporter %s failed to stop", name)

    async def _reconcile(self, strict: bool) -> None:
        wanted = self.agent.inventory.config.exporters.enabled()
        for name in list(self.running):
            if name not in wanted or wanted[name] != self.running[name].settings:
                if name in wanted:
                    log.info("exporter %s: settings changed; restarting it", name)
                await self.running.pop(name).stop()
        for name, settings in wanted.items():
            if name not in self.running:
                exporter = EXPORTERS[name](settings, peers=self.exporters)
                try:
                    await exporter.start(self.agent)
                except Exception as exc:
                    if strict:
                        raise
                    log.error("exporter %s could not start after the reload: %s", name, exc)
                    continue
                self.running[name] = exporter


def attach(agent: Agent) -> list[Component]:
    """The exporter hub (idle when no exporter is enabled; a reload may enable one)."""
    return [ExporterHub(agent)]


def register() -> None:
    """The ``exporters`` entry point of ``yunwei.plugins``."""
    register_section("exporters", ExportersConfig, ExportersConfig)
    register_component(attach)
