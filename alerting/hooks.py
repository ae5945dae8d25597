"""Attach alerting to the running agent (listed in agent.runtime.HOOK_MODULES)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.runtime import Agent


def attach(agent: Agent) -> list[Any]:
    """One component when ``alerting.enabled`` (the default)."""
    if not agent.inventory.config.alerting.enabled:
        return []
    from alerting.component import AlertingComponent

    return [AlertingComponent()]
