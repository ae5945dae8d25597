"""Log lines in the agent's time zone with its offset (``2026-11-03T09:12:05.120+08:00``).

Tables and chat messages show the configured zone (default Asia/Shanghai); the host clock of a
jump host is often UTC. One zone everywhere: the log's time stamps follow ``agent.timezone``
and carry the offset, so a log line and a chat message about the same moment read alike.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"  # inventory.models.AgentSettings.timezone's default
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ZonedFormatter(logging.Formatter):
    def __init__(self, zone: str = DEFAULT_ZONE) -> None:
        super().__init__(FORMAT)
        self.zone = ZoneInfo(zone)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        return datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds")


def use_zone(zone: str) -> None:
    """Make every handler of the root logger stamp lines in ``zone`` (once the config is read)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, ZonedFormatter):
            handler.formatter.zone = ZoneInfo(zone)
