"""Scheduled work that is not a probe round: meetings to check before, inspections to run."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from inventory.models import Strict


class Meeting(Strict):
    """A meeting whose venues are checked for readiness ahead of time."""

    name: str = ""
    at: datetime
    venues: list[str] = Field(default_factory=list, description="device or group ids of the venues' terminals")
    check_before_minutes: float = Field(30, gt=0)
