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

Rollups are in ``store.rollup``.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.model import Sample

FORMAT = 1
HOUR = 3600
DAY = 86400

_INT, _FLOAT = 0, 1
_DTYPES = (np.int8, np.int16, np.int32, np.int64)
_LIMITS = tuple(int(np.iinfo(t).max) for t in _DTYPES)
_NO_DELTAS = np.zeros(0, dtype=np.int64)
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


def write_ints(out: bytearray, values: np.ndarray) -> None:
    """Integers as the first one and its first difference, then first or second differences
    (whichever is narrower: drifting values take the first, steady clocks and counters the
    second) in the narrowest signed type. (Differences wrap around in int64 where they
    overflow; the sums that undo them wrap back the same way.)"""
    count = len(values)
    first = int(values[0]) if count else 0
    step = int(values[1] - values[0]) if count > 1 else 0
    order, code, deltas = 1, 0, _NO_DELTAS
    if count > 2:
        steps = values[1:] - values[:-1]
        firsts, seconds = steps[1:], steps[1:] - steps[:-1]
        peak_first = max(int(firsts.max()), -int(firsts.min()))
        peak_second = max(int(seconds.max()), -int(seconds.min()))
        deltas, order, peak = (seconds, 2, peak_second) if peak_second < peak_first else (firsts, 1, peak_first)
        code = next(i for i, limit in enumerate(_LIMITS) if peak <= limit)
    out.append(code | order << 4)
    _write_varint(out, first)
    _write_varint(out, step)
    if len(deltas):
        out += _planes(deltas.astype(_DTYPES[code]))


def _planes(array: np.ndarray) -> bytes:
    """Bytes grouped by significance (all low bytes, then the next…): the high bytes of small
    deltas are nearly all 0x00 or 0xFF and deflate squeezes them to a bit or two."""
    if array.itemsize == 1:
        return array.tobytes()
    return array.view(np.uint8).reshape(-1, array.itemsize).T.tobytes()


def _unplanes(data: memoryview, dtype: np.dtype) -> np.ndarray:
    planes = np.frombuffer(data, dtype=np.uint8).reshape(dtype.itemsize, -1)
    return planes.T.copy().view(dtype).reshape(-1).astype(np.int64)


def read_ints(data: memoryview, at: int, count: int) -> tuple[np.ndarray, int]:
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
    write_ints(out, array)


def read_column(data: memoryview, at: int, count: int) -> tuple[np.ndarray, int]:
    kind, places = struct.unpack_from("<BB", data, at)
    at += 2
    if kind == _FLOAT:
        end = at + 8 * count
        return np.frombuffer(data[at:end], dtype=np.float64).copy(), end
    array, at = read_ints(data, at, count)
    if places == 0:
        return array.astype(np.float64), at
    return array / 10**places, at


def quantized(name: str, values: np.ndarray) -> np.ndarray:
    """``values`` as a chunk keeps them."""
    digits = digits_for(name)
    ints = _as_ints(values, digits) if digits is not None and len(values) else None
    return values if ints is None else ints[1] / 10**ints[0]  # as read_column decodes them


def _write_mask(out: bytearray, mask: np.ndarray) -> None:
    if mask.all():
        out.append(1)
    elif not mask.any():
        out.append(0)
    else:
        out.append(2)
        out += np.packbits(mask).tobytes()


def _read_bits(data: memoryview, at: int, count: int) -> tuple[np.ndarray, int]:
    size = (count + 7) // 8
    return np.unpackbits(np.frombuffer(data[at:at + size], dtype=np.uint8))[:count].astype(bool), at + size


def _read_mask(data: memoryview, at: int, count: int) -> tuple[np.ndarray, int]:
    flag = data[at]
    if flag != 2:
        return np.full(count, flag == 1, dtype=bool), at + 1
    return _read_bits(data, at + 1, count)


def pack(out: bytearray) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate: no header or checksum to store per chunk
    return compressor.compress(bytes(out)) + compressor.flush()


def unpack(blob: bytes) -> memoryview:
    return memoryview(zlib.decompress(blob, -15))


# -- raw samples --------------------------------------------------------------------------


@dataclass
class Columns:
    """One device's probe's samples, time-ordered, as columns: what a chunk holds."""

    millis: np.ndarray  # int64 milliseconds since the epoch
    ok: np.ndarray  # bool
    metrics: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (present mask, values present)
    errors: dict[int, str] = field(default_factory=dict)
    infos: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.millis)

    @property
    def schema(self) -> tuple[str, ...]:
        return tuple(sorted(self.metrics))

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Columns:
        ordered = sorted(samples, key=lambda s: s.ts)
        names = sorted({name for s in ordered for name in s.metrics})
        metrics = {}
        for name in names:
            mask = np.fromiter((name in s.metrics for s in ordered), dtype=bool, count=len(ordered))
            values = np.fromiter((s.metrics[name] for s in ordered if name in s.metrics), dtype=np.float64)
            metrics[name] = (mask, values)
        return cls(
            np.fromiter((round(s.ts * 1000) for s in ordered), dtype=np.int64, count=len(ordered)),
            np.fromiter((s.ok for s in ordered), dtype=bool, count=len(ordered)),
            metrics,
            {i: s.error for i, s in enumerate(ordered) if s.error is not None},
            {i: s.info for i, s in enumerate(ordered) if s.info},
        )

    @classmethod
    def joined(cls, parts: Sequence[Columns]) -> Columns:
        """Several parts as one, in time order (a part's own order kept on equal times)."""
        millis = np.concatenate([p.millis for p in parts])
        order = np.argsort(millis, kind="stable")
        where = np.empty(len(order), dtype=np.int64)
        where[order] = np.arange(len(order))
        offsets = np.cumsum([0] + [p.count for p in parts])
        metrics = {}
        for name in sorted({n for p in parts for n in p.metrics}):
            masks, values = [], []
            for part in parts:
                mask, present = part.metrics.get(name, (np.zeros(part.count, dtype=bool), np.zeros(0)))
                full = np.zeros(part.count)
                full[mask] = present
                masks.append(mask)
                values.append(full)
            mask = np.concatenate(masks)[order]
            metrics[name] = (mask, np.concatenate(values)[order][mask])
        errors = {int(where[offset + i]): text for p, offset in zip(parts, offsets, strict=False) for i, text in p.errors.items()}
        infos = {int(where[offset + i]): info for p, offset in zip(parts, offsets, strict=False) for i, info in p.infos.items()}
        return cls(millis[order], np.concatenate([p.ok for p in parts])[order], metrics, errors, infos)

    def samples(self, device: str, probe: str) -> list[Sample]:
        rows: list[dict[str, float]] = [{} for _ in range(self.count)]
        for name, (mask, values) in self.metrics.items():
            for index, value in zip(np.flatnonzero(mask).tolist(), values.tolist(), strict=True):
                rows[index][name] = value
        ok, seconds = self.ok.tolist(), (self.millis / 1000).tolist()
        return [
            Sample(device, probe, ok[i], seconds[i], rows[i], self.errors.get(i), self.infos.get(i, {}))
            for i in range(self.count)
        ]

    def encode(self, schema: Sequence[str]) -> bytes:
        """The chunk; ``schema`` (the metric names, kept once elsewhere) covers every name here."""
        out = bytearray(struct.pack("<BI", FORMAT, self.count))
        write_ints(out, self.millis)
        out += np.packbits(self.ok).tobytes()
        for name in schema:
            mask, values = self.metrics.get(name, (np.zeros(self.count, dtype=bool), np.zeros(0)))
            _write_mask(out, mask)
            if len(values):
                write_column(out, values, digits_for(name))
        notes = {"e": sorted(self.errors.items()), "i": sorted(self.infos.items())}
        text = json.dumps(notes, ensure_ascii=False, separators=(",", ":")).encode()
        out += struct.pack("<I", len(text)) + text
        return pack(out)

    @classmethod
    def decode(cls, blob: bytes, schema: Sequence[str]) -> Columns:
        data = unpack(blob)
        _version, count = struct.unpack_from("<BI", data, 0)
        millis, at = read_ints(data, 5, count)
        ok, at = _read_bits(data, at, count)
        metrics = {}
        for name in schema:
            mask, at = _read_mask(data, at, count)
            if mask.any():
                values, at = read_column(data, at, int(mask.sum()))
                metrics[name] = (mask, values)
        (length,) = struct.unpack_from("<I", data, at)
        notes = json.loads(bytes(data[at + 4:at + 4 + length]))
        return cls(millis, ok, metrics, {i: e for i, e in notes["e"]}, {i: info for i, info in notes["i"]})

    def kept(self) -> Columns:
        """These columns with every value as the chunk keeps it (RTTs to 10 µs…)."""
        metrics = {name: (mask, quantized(name, values)) for name, (mask, values) in self.metrics.items()}
        return Columns(self.millis, self.ok, metrics, self.errors, self.infos)
