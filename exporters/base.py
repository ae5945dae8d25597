"""The exporter interface: the agent's rounds in, some other system's view of them out.

An exporter is built from its settings, started with the agent, handed every round with
``submit`` (which must return in microseconds: it may only enqueue, never do I/O) and stopped
when the agent drains. Exporters register by name; the name is also their key under
``exporters:`` in the config.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel

from inventory.plugins import Registry

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult


E = TypeVar("E", bound="Exporter")


@dataclass
class ExporterStatus:
    """Figures an exporter reports about itself (for /metrics, /healthz and the bench)."""

    queue_points: int = 0  # in memory, not yet spooled
    spool_points: int = 0  # durable, not yet accepted by the backend
    sent_points: int = 0  # accepted by the backend since start
    dropped_points: int = 0  # lost on purpose: memory queue full, or spool trimmed at its cap
    rejected_points: int = 0  # refused by the backend as malformed (HTTP 400): never retried
    last_success: float | None = None
    last_error: str | None = None
    backend_up: bool | None = None


class Exporter(ABC):
    """Base of every exporter."""

    name: ClassVar[str]
    # its section under exporters: (absent = off); must have ``enabled: bool``
    Settings: ClassVar[type[BaseModel]]

    def __init__(self, settings: Any, peers: Callable[[], list[Exporter]] | None = None) -> None:
        self.settings = settings
        # the other running exporters (the Prometheus endpoint reports their queue and spool)
        self.peers: Callable[[], list[Exporter]] = peers or (lambda: [self])

    @abstractmethod
    async def start(self, agent: Agent) -> None:
        """Open what the exporter needs (threads, sockets, its spool) and begin serving."""

    @abstractmethod
    def submit(self, result: RoundResult) -> None:
        """Take a finished round. Must not block: enqueue and return."""

    async def on_round(self, result: RoundResult) -> None:
        """The agent's Component hook: an exporter can also be attached on its own."""
        self.submit(result)

    @abstractmethod
    async def stop(self) -> None:
        """Stop, keeping whatever was not delivered durable for the next start."""

    def reload(self, agent: Agent) -> None:  # noqa: B027 - optional hook
        """The inventory changed (devices, groups); settings did not."""

    def status(self) -> ExporterStatus:
        return ExporterStatus()


EXPORTERS: Registry[type[Exporter]] = Registry("exporter", lambda cls: cls.name)


def register(cls: type[E]) -> type[E]:
    """Class decorator: make an exporter available under its name (duplicates refused); its
    ``Settings`` become the ``exporters.<name>:`` section (exporters.section)."""
    return EXPORTERS.register(cls)
