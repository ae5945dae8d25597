"""Rollups: 5-minute buckets of a device's probe, kept for the contract's life.

A bucket holds the samples, the samples up, and per metric the number of values and their sum
(``*_min_*`` metrics: the minimum; ``*_max_*``: the maximum). Sums, not averages, so buckets
merge exactly: the 1-hour rollup is the merge of the hour's twelve, a day's the merge of 288.
A stored rollup row holds the buckets of one chunk's span as columns (see ``store.chunk``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.model import Sample
from store.chunk import (
    FORMAT,
    Columns,
    digits_for,
    pack,
    read_column,
    read_ints,
    unpack,
    write_column,
    write_ints,
)

BUCKET = 300


def aggregate_kind(name: str) -> str:
    """How a metric rolls up: ``min`` for ``*_min_*``, ``max`` for ``*_max_*``, else ``sum`` (shown as the mean)."""
    parts = name.split("_")
    if "min" in parts:
        return "min"
    if "max" in parts:
        return "max"
    return "sum"


@dataclass
class Bucket:
    """Samples, samples up, and per metric (values, sum or min or max) over a time span."""

    start: float
    seconds: float
    samples: int = 0
    up: int = 0
    metrics: dict[str, tuple[int, float]] = field(default_factory=dict)

    def add(self, sample: Sample) -> None:
        self.samples += 1
        self.up += sample.ok
        for name, value in sample.metrics.items():
            self._fold(name, 1, value)

    def merge(self, other: Bucket) -> None:
        self.samples += other.samples
        self.up += other.up
        for name, (count, value) in other.metrics.items():
            self._fold(name, count, value)

    def _fold(self, name: str, count: int, value: float) -> None:
        known = self.metrics.get(name)
        if known is None:
            self.metrics[name] = (count, value)
            return
        kind = aggregate_kind(name)
        combined = min(known[1], value) if kind == "min" else max(known[1], value) if kind == "max" else known[1] + value
        self.metrics[name] = (known[0] + count, combined)

    @property
    def up_fraction(self) -> float | None:
        return self.up / self.samples if self.samples else None

    def value(self, name: str) -> float | None:
        """The metric's mean over the span (its minimum or maximum for ``*_min_*``/``*_max_*``)."""
        known = self.metrics.get(name)
        if known is None or not known[0]:
            return None
        return known[1] / known[0] if aggregate_kind(name) == "sum" else known[1]


def buckets_of(samples: Iterable[Sample], start: float, seconds: float = BUCKET) -> dict[float, Bucket]:
    """Samples into buckets of ``seconds`` aligned on ``start`` (the newest hour's rows)."""
    buckets: dict[float, Bucket] = {}
    for sample in samples:
        begin = start + math.floor((sample.ts - start) / seconds) * seconds
        bucket = buckets.get(begin)
        if bucket is None:
            bucket = buckets[begin] = Bucket(begin, seconds)
        bucket.add(sample)
    return buckets


def encode_rollup(columns: Columns, start: int, span: int, schema: Sequence[str]) -> bytes:
    """The 5-minute buckets of a chunk's columns over ``span`` seconds from ``start``."""
    slots = span // BUCKET
    slot = np.clip((columns.millis // 1000 - start) // BUCKET, 0, slots - 1)
    out = bytearray([FORMAT])
    write_ints(out, np.bincount(slot, minlength=slots))
    write_ints(out, np.bincount(slot, weights=columns.ok, minlength=slots).astype(np.int64))
    for name in schema:
        mask, values = columns.metrics.get(name, (np.zeros(columns.count, dtype=bool), np.zeros(0)))
        where = slot[mask]
        counts = np.bincount(where, minlength=slots)
        kind = aggregate_kind(name)
        if kind == "sum":
            folded = np.bincount(where, weights=values, minlength=slots)
        else:  # the slots are in time order: reduce each run of one slot
            folded = np.zeros(slots)
            if len(where):
                starts = np.flatnonzero(np.r_[True, where[1:] != where[:-1]])
                folded[where[starts]] = (np.minimum if kind == "min" else np.maximum).reduceat(values, starts)
        write_ints(out, counts)
        write_column(out, folded, digits_for(name))
    return pack(out)


def decode_rollup(blob: bytes, start: float, span: int, schema: Sequence[str]) -> list[Bucket]:
    data = unpack(blob)
    slots = span // BUCKET
    samples, at = read_ints(data, 1, slots)
    ups, at = read_ints(data, at, slots)
    buckets = [Bucket(float(start + i * BUCKET), BUCKET, int(samples[i]), int(ups[i])) for i in range(slots)]
    for name in schema:
        counts, at = read_ints(data, at, slots)
        values, at = read_column(data, at, slots)
        for bucket, count, value in zip(buckets, counts.tolist(), values.tolist(), strict=True):
            if count:
                bucket.metrics[name] = (count, value)
    return [b for b in buckets if b.samples]
