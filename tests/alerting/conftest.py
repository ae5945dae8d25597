"""Fixtures for alerting: an injected clock and a service on a fresh store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alerting_support import Clock

from alerting.service import AlertingService
from inventory.config import Inventory
from store.db import Store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def build(make_inventory: Callable[[dict[str, Any]], Inventory], clock: Clock, tmp_path: Path):  # type: ignore[no-untyped-def]
    """``build(config) -> (service, store)`` on a fresh store in tmp_path with the test clock."""
    made: list[Store] = []

    def factory(config: dict[str, Any]) -> tuple[AlertingService, Store]:
        inventory = make_inventory(config)
        store = Store(tmp_path / f"store-{len(made)}.db")
        made.append(store)
        return AlertingService(store, inventory, clock), store

    yield factory
    for store in made:
        store.close()
