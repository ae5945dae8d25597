"""Raw samples move from rows into compact hourly chunks and 5-minute rollups, losing nothing."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.model import Sample
from store.chunk import Columns
from store.db import Store

DAY = 86400.0
START = 1_767_225_600.0  # 2026-01-01 00:00 UTC, on the hour


def icmp(device: str, ts: float, rtt: float, ok: bool = True) -> Sample:
    if not ok:
        return Sample(device, "icmp", False, ts, {"loss_percent": 100.0, "sent": 3.0, "received": 0.0}, error="超时无应答")
    return Sample(device, "icmp", True, ts, {
        "loss_percent": 0.0, "sent": 3.0, "received": 3.0, "rtt_seconds": rtt,
        "rtt_min_seconds": rtt * 0.9, "rtt_max_seconds": rtt * 1.2,
    })


def day_of_samples(device: str = "cam-1") -> list[Sample]:
    """A day at one sample a minute, down from 03:00 to 03:30."""
    return [
        icmp(device, START + i * 60 + 0.123, 0.002 + (i % 7) * 1e-4, ok=not (180 <= i < 210))
        for i in range(1440)
    ]


def close(a: float, b: float, digits: int) -> bool:
    return abs(a - b) <= 0.51 * 10**-digits


def test_sealed_hours_move_to_chunks_and_read_back_the_same(tmp_path: Path) -> None:
    samples = day_of_samples()
    with Store(tmp_path / "y.db") as store:
        store.write_samples(samples)
        store.write_samples([Sample("sw-1", "snmp", True, START + 30, {"uptime_seconds": 3e6}, info={"sysName": "核心交换机"})])
        moved = 0
        while (step := store.samples.compact(START + DAY + 3600)) != 0:
            moved += step
        assert moved == 2 * 1441  # into 25 hourly chunks, then the sealed day folded into one per probe
        assert store.samples.sizes() == {"samples": 0, "sample_chunks": 2, "sample_rollups": 2}
        back = store.samples_for("cam-1")
        assert len(back) == len(samples)
        for written, read in zip(samples, back, strict=True):
            assert (read.ok, read.error) == (written.ok, written.error)
            assert close(read.ts, written.ts, 3)
            assert read.metrics.keys() == written.metrics.keys()
            for name, value in written.metrics.items():
                assert close(read.metrics[name], value, 5), name
        [switch] = store.samples_for("sw-1")
        assert switch.info == {"sysName": "核心交换机"} and switch.metrics == {"uptime_seconds": 3e6}
        assert len(store.samples_for("cam-1", since=START + 23 * 3600 + 30)) == 59
        # the newest sample of each probe is still the one status shows
        assert {s.device: s.ts for s in store.latest_samples()}["cam-1"] == samples[-1].ts


def test_the_newest_minutes_stay_in_rows_and_a_late_sample_joins_its_chunk(tmp_path: Path) -> None:
    with Store(tmp_path / "y.db") as store:
        store.write_samples([icmp("cam-1", START + i * 60, 0.002) for i in range(90)])
        while store.samples.compact(START + 3600 + 400):
            pass
        assert store.samples.sizes()["samples"] == 25  # the last 2 minutes before 01:06:40, and after
        assert len(store.samples_for("cam-1")) == 90
        store.write_samples([icmp("cam-1", START + 1800.5, 0.004)])  # arrived late, for a moved hour
        while store.samples.compact(START + 2 * 3600 + 400):
            pass
        assert store.samples.sizes() == {"samples": 0, "sample_chunks": 2, "sample_rollups": 2}
        back = store.samples_for("cam-1")
        assert len(back) == 91 and [s.ts for s in back] == sorted(s.ts for s in back)


@pytest.mark.parametrize("failing_write", [5, 11], ids=["sealing an hour", "folding a day"])
def test_a_failed_compaction_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_write: int
) -> None:
    with Store(tmp_path / "y.db") as store:
        for device in ("a", "b", "c"):
            store.write_samples(day_of_samples(device)[:180])
        calls = {"n": 0}
        real = store.samples._write_chunk

        def failing(*args: object) -> int:
            calls["n"] += 1
            if calls["n"] == failing_write:
                raise OSError("disk full")
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(store.samples, "_write_chunk", failing)
        with pytest.raises(OSError):
            while store.samples.compact(START + DAY + 3600, devices=10):
                pass
        assert sum(len(store.samples_for(d)) for d in "abc") == 540
        monkeypatch.setattr(store.samples, "_write_chunk", real)
        while store.samples.compact(START + DAY + 3600):
            pass
        assert store.samples.sizes() == {"samples": 0, "sample_chunks": 3, "sample_rollups": 3}
        assert sum(len(store.samples_for(d)) for d in "abc") == 540


def test_rollups_give_up_fraction_and_rtt_and_outlive_the_raw_samples(tmp_path: Path) -> None:
    samples = day_of_samples()
    with Store(tmp_path / "y.db") as store:
        store.write_samples(samples)
        while store.samples.compact(START + DAY + 3600):
            pass
        assert store.prune_samples(START + DAY) == 1440  # retention passed: the raw day goes
        assert store.samples_for("cam-1") == []
        hours = store.samples.rollups("cam-1", "icmp", START, START + DAY, step=3600)
        assert len(hours) == 24
        assert hours[3].up_fraction == pytest.approx(0.5) and hours[2].up_fraction == 1.0
        day = store.samples.rollups("cam-1", "icmp", START, START + DAY, step=DAY)[0]
        assert day.samples == 1440 and day.up == 1410
        ok = [s for s in samples if s.ok]
        assert day.value("rtt_seconds") == pytest.approx(sum(s.metrics["rtt_seconds"] for s in ok) / len(ok), abs=1e-5)
        assert day.value("rtt_min_seconds") == pytest.approx(min(s.metrics["rtt_min_seconds"] for s in ok), abs=1e-5)
        assert day.value("rtt_max_seconds") == pytest.approx(max(s.metrics["rtt_max_seconds"] for s in ok), abs=1e-5)
        five = store.samples.rollups("cam-1", "icmp", START + 3 * 3600, START + 4 * 3600)
        assert [b.up for b in five] == [0] * 6 + [5] * 6


def test_rollups_of_the_newest_hour_come_from_its_rows(tmp_path: Path) -> None:
    with Store(tmp_path / "y.db") as store:
        store.write_samples([icmp("cam-1", START + i * 60, 0.002, ok=i % 2 == 0) for i in range(30)])
        [bucket] = store.samples.rollups("cam-1", "icmp", START, START + 3600, step=3600)
        assert (bucket.samples, bucket.up) == (30, 15)


names = st.sampled_from(["rtt_seconds", "loss_percent", "sent", "in_bps", "temperature", "if.GE0/0/1.in_bps"])
values = st.one_of(
    st.integers(-(10**12), 10**12).map(float),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.decimals(places=3, min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False).map(float),
)
samples_strategy = st.lists(
    st.builds(
        lambda ts, ok, metrics, error: Sample("d", "p", ok, ts, metrics, error),
        st.floats(START, START + 3599),
        st.booleans(),
        st.dictionaries(names, values, max_size=4),
        st.one_of(st.none(), st.text(max_size=20)),
    ),
    min_size=1,
    max_size=80,
)


@given(samples_strategy)
def test_any_hour_of_samples_survives_the_chunk_encoding(samples: list[Sample]) -> None:
    samples.sort(key=lambda s: s.ts)
    columns = Columns.of(samples)
    back = Columns.decode(columns.encode(columns.schema), columns.schema).samples("d", "p")
    assert len(back) == len(samples)
    for written, read in zip(samples, back, strict=True):
        assert (read.ok, read.error, read.metrics.keys()) == (written.ok, written.error, written.metrics.keys())
        assert close(read.ts, written.ts, 3)
        for name, value in written.metrics.items():
            if name.endswith("_seconds"):
                assert close(read.metrics[name], value, 5)
            elif name.endswith("_percent"):
                assert close(read.metrics[name], value, 3)
            else:  # no declared precision: kept exactly
                assert read.metrics[name] == value or (math.isnan(value) and math.isnan(read.metrics[name]))


def test_a_store_of_days_of_rows_from_before_chunks_is_compacted_in_bounded_steps(tmp_path: Path) -> None:
    """After an upgrade the head holds retention_days of JSON rows; no step may hold the writer for all of them."""
    with Store(tmp_path / "y.db") as store:
        for device in ("a", "b", "c", "d"):
            store.write_samples([icmp(device, START + i * 60, 0.003) for i in range(3 * 1440)])
        steps = []
        while step := store.samples.compact(START + 3 * DAY + 3600, rows=5000):
            steps.append(step)
        assert max(steps) <= 5000 + 3 * 1440  # the budget, overrun by one device's rows at most
        assert store.samples.sizes() == {"samples": 0, "sample_chunks": 12, "sample_rollups": 12}  # 3 days × 4 devices
        assert [len(store.samples_for(d)) for d in "abcd"] == [3 * 1440] * 4
