"""Attach the web console to the running agent (listed in agent.runtime.HOOK_MODULES)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from web.component import WebComponent

if TYPE_CHECKING:
    from agent.runtime import Agent


def attach(agent: Agent) -> list[Any]:
    """One component when ``web.enabled`` (the default); it serves once a user exists."""
    return [WebComponent()] if agent.inventory.config.web.enabled else []
