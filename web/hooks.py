"""The web console as a plugin: its ``web:`` config section and the component that serves it."""

from __future__ import annotations

from typing import Any

from agent.runtime import Agent, register_component
from inventory.plugins import register_section
from web.component import WebComponent
from web.config import WebConfig


def attach(agent: Agent) -> list[Any]:
    """One component when ``web.enabled`` (the default); it serves once a user exists."""
    return [WebComponent()] if agent.inventory.config.web.enabled else []


def register() -> None:
    """The ``web`` entry point of ``yunwei.plugins``."""
    register_section("web", WebConfig, WebConfig)
    register_component(attach)
