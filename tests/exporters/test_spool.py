"""The spool in a real SQLite store: order, merging, the cap, marks, and what survives reopening."""

from __future__ import annotations

import gzip
from pathlib import Path

from store.db import Store
from store.spool import Spool


def body(lines: list[str]) -> bytes:
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def test_rows_come_back_in_order_merged_into_one_gzip_stream(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    spool = Spool(store, "influxdb")
    spool.append([(2, "gzip", body(["a 1", "b 2"])), (1, "gzip", body(["c 3"]))], created=0, max_points=100)
    spool.append([(3, "gzip", body(["d 4", "e 5", "f 6"])), (1, "identity", b"g 7\n")], created=0, max_points=100)
    assert (spool.rows, spool.points) == (4, 7)

    first = spool.head(max_points=3)
    assert first is not None and first.points == 3 and len(first.ids) == 2
    assert gzip.decompress(first.payload) == b"a 1\nb 2\nc 3\n"  # two gzip members read as one stream
    spool.delete(first)
    second = spool.head(max_points=100)
    assert second is not None and second.encoding == "gzip" and second.points == 3  # encodings are not mixed
    spool.delete(second)
    third = spool.head(max_points=100)
    assert third is not None and third.payload == b"g 7\n"
    spool.delete(third)
    assert spool.head(100) is None and (spool.rows, spool.points) == (0, 0)


def test_a_single_row_larger_than_the_merge_limit_is_still_sent(tmp_path: Path) -> None:
    spool = Spool(Store(tmp_path / "db.sqlite"), "influxdb")
    spool.append([(10, "identity", b"x\n" * 10)], created=0, max_points=100)
    batch = spool.head(max_points=3)
    assert batch is not None and batch.points == 10


def test_cap_drops_the_oldest_and_reports_it(tmp_path: Path) -> None:
    spool = Spool(Store(tmp_path / "db.sqlite"), "influxdb")
    for n in range(5):
        assert spool.append([(10, "identity", f"r{n}\n".encode())], created=0, max_points=35) == (10 if n >= 3 else 0)
    assert spool.points == 30
    batch = spool.head(100)
    assert batch is not None and batch.payload == b"r2\nr3\nr4\n"


def test_spool_and_marks_survive_reopening_and_are_per_exporter(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = Store(path)
    spool = Spool(store, "influxdb")
    spool.append([(4, "identity", b"a\nb\nc\nd\n")], created=0, max_points=100, marks={"fault:F-1": "abc"})
    store.close()

    store = Store(path)
    again = Spool(store, "influxdb")
    assert (again.rows, again.points) == (1, 4)
    assert again.marks("fault:") == {"fault:F-1": "abc"}
    other = Spool(store, "other")
    assert other.head(100) is None and other.marks("fault:") == {}
