"""Exporter settings (the ``exporters:`` section of the config)."""

from __future__ import annotations

from inventory.models import Strict


class ExportersConfig(Strict):
    """Which exporters run and how they reach their backend."""
