"""Alerting settings (the ``alerting:`` section of the config)."""

from __future__ import annotations

from inventory.models import Strict


class AlertingConfig(Strict):
    """Fault rules, routing and notifier channels."""
