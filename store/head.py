"""The head of the raw samples: a round's samples as rows, and the newest sample per probe.

Every round writes here and ``yunwei status`` reads ``latest`` from here, so this module
imports nothing heavy (the chunks' numpy code is ``store.samples``, loaded on first use).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from core.model import Sample

if TYPE_CHECKING:
    from store.db import Store

COLUMNS = "device, probe, ok, ts, metrics, error, info"


def write(store: Store, samples: Iterable[Sample]) -> int:
    rows = [to_row(s) for s in samples]
    if not rows:
        return 0
    with store.transaction() as db:
        db.executemany(f"INSERT INTO samples ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany(
            f"INSERT INTO latest ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (device, probe) DO UPDATE SET ts = excluded.ts, ok = excluded.ok,"
            " metrics = excluded.metrics, error = excluded.error, info = excluded.info"
            " WHERE excluded.ts >= latest.ts",
            rows,
        )
    return len(rows)


def latest(store: Store) -> list[Sample]:
    with store._lock:
        rows = store.db.execute(f"SELECT {COLUMNS} FROM latest").fetchall()
    return [from_row(row) for row in rows]


def to_row(s: Sample) -> tuple[Any, ...]:
    return (
        s.device,
        s.probe,
        int(s.ok),
        s.ts,
        json.dumps(s.metrics, separators=(",", ":")) if s.metrics else None,
        s.error,
        json.dumps(s.info, ensure_ascii=False, separators=(",", ":")) if s.info else None,
    )


def from_row(row: Sequence[Any]) -> Sample:
    device, probe, ok, ts, metrics, error, info = row
    return Sample(
        device=device,
        probe=probe,
        ok=bool(ok),
        ts=ts,
        metrics=json.loads(metrics) if metrics else {},
        error=error,
        info=json.loads(info) if info else {},
    )
