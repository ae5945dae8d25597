"""Nothing outside the store layer touches the SQLite connection, its lock, or its transactions.

The store's repositories (``store/*.py``) are the only code that writes SQL: a change of a table
is a change in one package, and the concurrent-writers guarantees (one lock, short
``BEGIN IMMEDIATE`` transactions) hold because nobody else opens a transaction.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "inventory", "collectors", "agent", "alerting", "exporters", "compliance", "receivers", "web", "demo", "cli")
FORBIDDEN_CALLS = {"transaction", "migrate", "execute", "executemany", "executescript"}


def reaches_into_the_store(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            if any(name == "sqlite3" or name.startswith("sqlite3.") for name in names):
                found.append(f"{where}: imports sqlite3")
        elif isinstance(node, ast.Attribute):
            if node.attr == "_lock" and isinstance(node.value, ast.Attribute) and node.value.attr in {"store", "db"}:
                found.append(f"{where}: takes the store's lock")
            elif node.attr in FORBIDDEN_CALLS and isinstance(node.value, ast.Attribute | ast.Name):
                owner = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
                if owner in {"db", "store", "conn", "connection"}:
                    found.append(f"{where}: calls {owner}.{node.attr}()")
    return found


def test_only_the_store_layer_speaks_sql() -> None:
    offences = [
        line
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in reaches_into_the_store(path)
    ]
    assert offences == [], "SQL outside store/ (move it into a repository there):\n" + "\n".join(offences)
