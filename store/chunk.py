"""Compact encoding of raw samples and their rollups, one blob per device, probe and hour or day.

A raw JSON row repeats every metric name in every sample (283 bytes an ICMP sample). Here a
chunk holds one hour of one device's probe as columns: the metric names once (as a schema id
kept in the store), the times as millisecond deltas, ``ok`` as bits, and each metric as integer
deltas in the narrowest type that fits, the whole deflated.

Values are kept exactly where they are integers, or decimals of up to 3 or 6 places; metrics
named ``*_seconds`` are kept to 10 microseconds (as fping reports them) and ``*_percent`` to a thousandth of a percent
(what a probe measures is coarser than that), anything else as a 64-bit float. Times are kept
to the millisecond.

A sealed day's 24 hourly chunks are folded into one day chunk (a day deflates a third better
than its hours apart, and keeps one row and one index entry instead of 24).

A rollup is a 5-minute bucket: samples, samples up, and per metric the number of values and
their sum (``*_min_*`` metrics: the minimum; ``*_max_*``: the maximum). Sums, not averages, so
buckets merge exactly: the 1-hour rollup is the merge of the hour's twelve.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.model import Sample

FORMAT = 1
HOUR = 3600
DAY = 86400
BUCKET = 300

_INT, _FLOAT = 0, 1
_DTYPES = (np.int8, np.int16, np.int32, np.int64)
_EXACT_DIGITS = (0, 3, 6)


def hour_of(ts: float) -> int:
    return int(ts // HOUR) * HOUR


def day_of(ts: float) -> int:
    return int(ts // DAY) * DAY


def digits_for(name: str) -> int | None:
    """Decimal places a metric is rounded to, or None: kept exactly when it can be."""
    if name.endswith("_seconds"):
        return 5
    if name.endswith("_percent"):
        return 3
    return None


def aggregate_kind(name: str) -> str:
    """How a metric rolls up: ``min`` for ``*_min_*``, ``max`` for ``*_max_*``, else ``sum`` (shown as the mean)."""
    parts = name.split("_")
    if "min" in parts:
        return "min"
    if "max" in parts:
        return "max"
    return "sum"


# -- columns ------------------------------------------------------------------------------


def _write_varint(out: bytearray, value: int) -> None:
    zigzag = (value << 1) ^ (value >> 63)
    while zigzag >= 0x80:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)


def _read_varint(data: memoryview, at: int) -> tuple[int, int]:
    zigzag = shift = 0
    while True:
        byte = data[at]
        at += 1
        zigzag |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return (zigzag >> 1) ^ -(zigzag & 1), at


def _write_ints(out: bytearray, values: np.ndarray) -> None:
    """Integers as the first one and its first difference, then first or second differences
    (whichever is narrower: drifting values take the first, steady clocks and counters the
    second) in the narrowest signed type."""
    count = len(values)
    first = int(values[0]) if count else 0
    step = int(values[1] - values[0]) if count > 1 else 0
    deltas = np.diff(values)[1:] if count > 2 else np.zeros(0, dtype=np.int64)
    order = 1
    if len(deltas):
        second = np.diff(values, 2)
        if np.abs(second).max() < np.abs(deltas).max():
            deltas, order = second, 2
    peak = int(np.abs(deltas).max()) if len(deltas) else 0
    code = next(i for i, t in enumerate(_DTYPES) if peak <= np.iinfo(t).max)
    out.append(code | order << 4)
    _write_varint(out, first)
    _write_varint(out, step)
    out += _planes(deltas.astype(_DTYPES[code]))


def _planes(array: np.ndarray) -> bytes:
    """Bytes grouped by significance (all low bytes, then the next…): the high bytes of small
    deltas are nearly all 0x00 or 0xFF and deflate squeezes them to a bit or two."""
    return array.view(np.uint8).reshape(-1, array.itemsize).T.tobytes()


def _unplanes(data: memoryview, dtype: np.dtype) -> np.ndarray:
    planes = np.frombuffer(data, dtype=np.uint8).reshape(dtype.itemsize, -1)
    return planes.T.copy().view(dtype).reshape(-1).astype(np.int64)


def _read_ints(data: memoryview, at: int, count: int) -> tuple[np.ndarray, int]:
    code, order = data[at] & 0x0F, data[at] >> 4
    first, at = _read_varint(data, at + 1)
    step, at = _read_varint(data, at)
    dtype = np.dtype(_DTYPES[code])
    size = max(0, count - 2) * dtype.itemsize
    rest = _unplanes(data[at:at + size], dtype)
    values = np.empty(count, dtype=np.int64)
    if count:
        values[0] = first
    if count > 1:
        steps = np.concatenate(([step], step + np.cumsum(rest) if order == 2 else rest))
        values[1:] = first + np.cumsum(steps)
    return values, at + size


def _as_ints(values: Sequence[float], digits: int | None) -> tuple[int, np.ndarray] | None:
    """(decimal places, integers) standing for ``values``, or None when only floats will do."""
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)) or (len(array) and np.abs(array).max() > 4e12):  # deltas of 6-place integers must fit int64
        return None
    if digits is not None:
        return digits, np.rint(array * 10**digits).astype(np.int64)
    for places in _EXACT_DIGITS:
        scaled = np.rint(array * 10**places)
        if np.array_equal(scaled / 10**places, array):
            return places, scaled.astype(np.int64)
    return None


def write_column(out: bytearray, values: Sequence[float], digits: int | None) -> None:
    ints = _as_ints(values, digits)
    if ints is None:
        out += struct.pack("<BB", _FLOAT, 0)
        out += np.asarray(values, dtype=np.float64).tobytes()
        return
    places, array = ints
    out += struct.pack("<BB", _INT, places)
    _write_ints(out, array)


def read_column(data: memoryview, at: int, count: int) -> tuple[list[float], int]:
    kind, places = struct.unpack_from("<BB", data, at)
    at += 2
    if kind == _FLOAT:
        end = at + 8 * count
        return np.frombuffer(data[at:end], dtype=np.float64).tolist(), end
    array, at = _read_ints(data, at, count)
    if places == 0:
        return array.astype(np.float64).tolist(), at
    return (array / 10**places).tolist(), at


def _write_mask(out: bytearray, mask: Sequence[bool]) -> None:
    if all(mask):
        out.append(1)
    elif not any(mask):
        out.append(0)
    else:
        out.append(2)
        out += np.packbits(np.asarray(mask, dtype=bool)).tobytes()


def _read_mask(data: memoryview, at: int, count: int) -> tuple[list[bool], int]:
    flag = data[at]
    at += 1
    if flag != 2:
        return [flag == 1] * count, at
    size = (count + 7) // 8
    bits = np.unpackbits(np.frombuffer(data[at:at + size], dtype=np.uint8))[:count]
    return bits.astype(bool).tolist(), at + size


def _pack(out: bytearray) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate: no header or checksum to store per chunk
    return compressor.compress(bytes(out)) + compressor.flush()


def _unpack(blob: bytes) -> memoryview:
    return memoryview(zlib.decompress(blob, -15))


# -- raw samples --------------------------------------------------------------------------


def schema_of(samples: Iterable[Sample]) -> tuple[str, ...]:
    return tuple(sorted({name for s in samples for name in s.metrics}))


def encode_samples(samples: Sequence[Sample], schema: Sequence[str]) -> bytes:
    """One device's probe, time-ordered; ``schema`` holds every metric name they carry."""
    count = len(samples)
    out = bytearray(struct.pack("<BI", FORMAT, count))
    millis = np.asarray([round(s.ts * 1000) for s in samples], dtype=np.int64)
    _write_ints(out, millis)
    out += np.packbits(np.asarray([s.ok for s in samples], dtype=bool)).tobytes()
    for name in schema:
        mask = [name in s.metrics for s in samples]
        _write_mask(out, mask)
        present = [s.metrics[name] for s in samples if name in s.metrics]
        if present:
            write_column(out, present, digits_for(name))
    notes = {
        "e": [[i, s.error] for i, s in enumerate(samples) if s.error is not None],
        "i": [[i, s.info] for i, s in enumerate(samples) if s.info],
    }
    text = json.dumps(notes, ensure_ascii=False, separators=(",", ":")).encode()
    out += struct.pack("<I", len(text)) + text
    return _pack(out)


def decode_samples(blob: bytes, device: str, probe: str, schema: Sequence[str]) -> list[Sample]:
    data = _unpack(blob)
    _version, count = struct.unpack_from("<BI", data, 0)
    millis, at = _read_ints(data, 5, count)
    size = (count + 7) // 8
    ok = np.unpackbits(np.frombuffer(data[at:at + size], dtype=np.uint8))[:count].astype(bool).tolist()
    at += size
    metrics: list[dict[str, float]] = [{} for _ in range(count)]
    for name in schema:
        mask, at = _read_mask(data, at, count)
        if not any(mask):
            continue
        values, at = read_column(data, at, sum(mask))
        for target, value in zip((m for m, present in zip(metrics, mask, strict=True) if present), values, strict=True):
            target[name] = value
    (length,) = struct.unpack_from("<I", data, at)
    notes = json.loads(bytes(data[at + 4:at + 4 + length]))
    errors = dict(map(tuple, notes["e"]))
    infos = dict(map(tuple, notes["i"]))
    return [
        Sample(device, probe, ok[i], millis[i] / 1000, metrics[i], errors.get(i), infos.get(i, {}))
        for i in range(count)
    ]


# -- rollups ------------------------------------------------------------------------------


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
    """Samples into buckets of ``seconds`` aligned on ``start``."""
    buckets: dict[float, Bucket] = {}
    for sample in samples:
        begin = start + math.floor((sample.ts - start) / seconds) * seconds
        bucket = buckets.get(begin)
        if bucket is None:
            bucket = buckets[begin] = Bucket(begin, seconds)
        bucket.add(sample)
    return buckets


def encode_rollup(buckets: Sequence[Bucket], start: float, span: int, schema: Sequence[str]) -> bytes:
    """The 5-minute buckets of ``span`` seconds from ``start`` as columns."""
    slots = {int((b.start - start) // BUCKET): b for b in buckets}
    rows = [slots.get(i) for i in range(span // BUCKET)]
    out = bytearray([FORMAT])
    _write_ints(out, np.asarray([b.samples if b else 0 for b in rows], dtype=np.int64))
    _write_ints(out, np.asarray([b.up if b else 0 for b in rows], dtype=np.int64))
    for name in schema:
        known = [b.metrics.get(name, (0, 0.0)) if b else (0, 0.0) for b in rows]
        _write_ints(out, np.asarray([count for count, _ in known], dtype=np.int64))
        write_column(out, [value for _, value in known], digits_for(name))
    return _pack(out)


def decode_rollup(blob: bytes, start: float, span: int, schema: Sequence[str]) -> list[Bucket]:
    data = _unpack(blob)
    slots = span // BUCKET
    samples, at = _read_ints(data, 1, slots)
    ups, at = _read_ints(data, at, slots)
    buckets = [Bucket(float(start + i * BUCKET), BUCKET, int(samples[i]), int(ups[i])) for i in range(slots)]
    for name in schema:
        counts, at = _read_ints(data, at, slots)
        values, at = read_column(data, at, slots)
        for bucket, count, value in zip(buckets, counts.tolist(), values, strict=True):
            if count:
                bucket.metrics[name] = (count, value)
    return [b for b in buckets if b.samples]
