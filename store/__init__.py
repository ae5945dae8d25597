"""The store layer: SQLite in WAL mode behind small repository classes. Imports only core."""

from store.db import Store, open_store

__all__ = ["Store", "open_store"]
