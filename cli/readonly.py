"""The config as the read-only commands (``status``, ``faults list``) read it.

The view kept from the last full load (inventory.view) while nothing it came from changed;
otherwise the full load, which refuses a config with errors exactly as every command does
and keeps a new view for the next command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from inventory.view import InventoryView, read_view

if TYPE_CHECKING:
    from inventory.config import Inventory


def config_for_reading(path: str | Path) -> Inventory | InventoryView:
    view = read_view(path)
    if view is not None:
        return view
    # Imported here, not above: a command answered from the view never loads the config models.
    from inventory.snapshot import load_and_remember

    return load_and_remember(path)
