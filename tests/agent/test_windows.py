"""Maintenance windows made at run time: they survive a restart, end early once, and a wrong
window id is told apart from a window that is over."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import windows
from core.errors import InputError
from store.db import Store, open_store

NOW = 1_796_000_000.0  # 2026-11-30


def test_a_window_survives_a_restart_and_ends_early_once(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        made = windows.add_window(store, "今晚割接", NOW - 60, NOW + 3600, "Asia/Shanghai", "张工", now=NOW - 60,
                                  devices=["cam-2"])
        before = windows.signature(store)
    with open_store(tmp_path) as store:  # the daemon restarted
        [kept] = windows.stored_windows(store, since=NOW)
        windows.end_window(store, made.id, "李工", now=NOW + 600)
        [ended] = windows.stored_windows(store, since=NOW)
        with pytest.raises(InputError) as again:
            windows.end_window(store, made.id, "李工", now=NOW + 700)
        after = windows.signature(store)
        assert windows.stored_windows(store, since=NOW + 601) == []  # it ended when it was ended
    assert (kept.window.name, kept.window.devices, kept.end, kept.ended) == ("今晚割接", ["cam-2"], NOW + 3600, None)
    assert (ended.end, ended.ended, ended.ended_by) == (NOW + 600, NOW + 600, "李工")
    assert str(again.value) == f"maintenance window: window {made.id} has already ended"
    assert before != after  # the engine and the fleet re-read the windows


def test_a_wrong_id_and_a_window_already_over_are_different_answers(tmp_path: Path) -> None:
    with Store(tmp_path / "yunwei.db") as store:
        past = windows.add_window(store, "昨晚割接", NOW - 7200, NOW - 3600, "Asia/Shanghai", "张工", now=NOW - 7200,
                                  groups=["east"])
        with pytest.raises(InputError) as missing:
            windows.end_window(store, past.id + 1, "李工", now=NOW)
        with pytest.raises(InputError) as over:
            windows.end_window(store, past.id, "李工", now=NOW)
        assert store.schema_version("windows") == 1  # the table's one script, as data directories have it
    assert str(missing.value) == f"maintenance window: no window {past.id + 1}"
    assert str(over.value) == f"maintenance window: window {past.id} has already ended"
