"""ISO 8601 with offset <-> epoch seconds: the ledger's time format."""

from __future__ import annotations

import pytest

from core.timefmt import local_date, parse_iso, parse_when, to_iso


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2026-11-03T09:12:00+08:00", 1793668320.0),
        ("2026-11-03T01:12:00Z", 1793668320.0),
        ("2026-11-03T01:12:00+00:00", 1793668320.0),
        ("2026-11-02T20:12:00-05:00", 1793668320.0),
        ("2026-11-03T09:12:00.250000+08:00", 1793668320.25),
    ],
)
def test_parse_iso_reads_every_offset_form(text: str, epoch: float) -> None:
    assert parse_iso(text) == epoch


@pytest.mark.parametrize("text", ["2026-11-03T09:12:00", "2026-11-03", "yesterday", "2026-13-03T09:12:00+08:00"])
def test_parse_iso_refuses_times_without_offset_or_invalid(text: str) -> None:
    with pytest.raises(ValueError):
        parse_iso(text)


def test_to_iso_shows_beijing_time_and_round_trips_microseconds() -> None:
    assert to_iso(1793668320.0) == "2026-11-03T09:12:00+08:00"
    assert to_iso(1793668320.0, "UTC") == "2026-11-03T01:12:00+00:00"
    for epoch in (1793668320.123456, 1782000000.5, 0.0, 2051222400.000001):
        assert parse_iso(to_iso(epoch)) == pytest.approx(epoch, abs=1e-6)
        assert to_iso(parse_iso(to_iso(epoch))) == to_iso(epoch)


def test_parse_when_takes_local_dates_and_times() -> None:
    assert parse_when("2026-11-03 09:12") == 1793668320.0
    assert parse_when("2026-11-03") == parse_iso("2026-11-03T00:00:00+08:00")
    assert local_date(parse_iso("2026-11-02T16:30:00Z")).isoformat() == "2026-11-03"
    with pytest.raises(ValueError):
        parse_when("03/11/2026")
