"""Alerting as a plugin: its config section and the component it attaches to the agent."""

from __future__ import annotations

from typing import Any

from agent.runtime import Agent, register_component
from alerting.component import AlertingComponent
from alerting.config import AlertingConfig
from inventory.plugins import register_section


def attach(agent: Agent) -> list[Any]:
    """One component when ``alerting.enabled`` (the default)."""
    if not agent.inventory.config.alerting.enabled:
        return []
    return [AlertingComponent()]


def register() -> None:
    """The ``alerting`` entry point of ``yunwei.plugins``."""
    register_section("alerting", AlertingConfig, AlertingConfig)
    register_component(attach)
