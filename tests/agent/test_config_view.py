"""``status`` and ``faults list`` read the config's view (inventory.view) while it holds: the
same output as a full load, and a config with an error still refused as before."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from agent.status import StatusFilter, render_status
from cli.main import main
from cli.readonly import config_for_reading
from core.model import State, Transition
from inventory.config import Inventory, load_config
from inventory.view import InventoryView, cache_path
from store.db import open_store
from store.faults import Fault, FaultStore

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOOK_TOKEN", "abc")


def site(tmp_path: Path) -> Path:
    now = datetime.now(ZONE)
    config = {
        "agent": {"id": "t", "data_dir": "data", "language": "zh"},
        "units": [{"id": "gaj", "name": "市公安局"}],
        "systems": [{"id": "lantian", "name": "蓝天卫士", "unit": "gaj"}],
        "groups": [
            {"id": "cams", "name": "东门摄像机", "unit": "gaj", "system": "lantian", "kind": "camera",
             "online_rate": {"threshold": 0.9, "important_periods": [
                 {"start": now.date().isoformat(), "end": now.date().isoformat(), "threshold": 0.98}]}},
        ],
        "devices": [
            {"id": f"cam{i}", "name": f"东门{i}", "group": "cams", "address": f"10.0.0.{i + 1}",
             "probes": {"tcp": {"port": 554}, "icmp": {}}}
            for i in range(6)
        ],
        "maintenance": [{"name": "光缆割接", "devices": ["cam5"],
                         "start": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
                         "end": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")}],
        "alerting": {"channels": {"ops": {"type": "webhook", "url": "http://127.0.0.1:9/${env:HOOK_TOKEN}"}},
                     "routes": [{"channels": ["ops"]}]},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    inventory = load_config(path)
    with open_store(inventory.data_dir) as store:
        started = time.time() - 600
        store.add_transitions(
            [Transition(f"cam{i}", started, State.DOWN if i == 0 else State.UP, State.UNKNOWN, "refused") for i in range(6)],
            agent="t",
        )
        FaultStore(store, "t").open(
            Fault(id="", key="down:cam0", rkey="down:cam0", source="down", state="open", level=3, cause="connection refused (port 554)",
                  opened=started, respond_by=started + 1200, resolve_by=started + 86400, device="cam0", group="cams",
                  system="lantian", unit="gaj"),
            time.time(),
        )
    return path


def test_the_view_shows_what_the_full_load_shows(tmp_path: Path) -> None:
    config = site(tmp_path)
    assert main(["check", "-c", str(config)]) == 0
    assert cache_path(config).exists()
    view = config_for_reading(config)
    full = load_config(config)
    assert isinstance(view, InventoryView) and isinstance(full, Inventory)
    now = time.time()
    with open_store(full.data_dir) as store:
        for only in (StatusFilter(), StatusFilter(problems_only=True)):
            shown = render_status(view, store, now=now, only=only)
            assert shown == render_status(full, store, now=now, only=only)
    assert "维护" in shown and "98%" in shown  # the window and the important period's threshold came through


def test_faults_list_reads_the_view_and_says_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = site(tmp_path)
    assert main(["faults", "list", "-c", str(config), "--unit", "市公安局"]) == 0  # no view yet: a full load, which keeps one
    first = capsys.readouterr().out
    assert cache_path(config).exists()
    assert isinstance(config_for_reading(config), InventoryView)
    assert main(["faults", "list", "-c", str(config), "--unit", "市公安局"]) == 0
    assert capsys.readouterr().out == first
    assert "蓝天卫士 东门0" in first and "连接被拒绝 (端口 554)" in first


@pytest.mark.parametrize("break_it", ["edit", "env"])
def test_a_config_broken_after_the_view_was_kept_is_still_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, break_it: str
) -> None:
    config = site(tmp_path)
    assert main(["check", "-c", str(config)]) == 0
    capsys.readouterr()
    if break_it == "edit":  # a typo, same size and mtime would not hide it: the view is keyed by content too
        config.write_text(config.read_text(encoding="utf-8").replace("kind: camera", "kind: camrea"), encoding="utf-8")
        expected = "unknown kind 'camrea'"
    else:  # a variable the config names is gone
        monkeypatch.delenv("HOOK_TOKEN")
        expected = "environment variable 'HOOK_TOKEN' is not set"
    for command in (["status"], ["faults", "list"]):
        assert main([*command, "-c", str(config)]) == 2
        err = capsys.readouterr().err
        assert expected in err and "config.yaml" in err, err
