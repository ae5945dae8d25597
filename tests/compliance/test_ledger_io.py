"""``yunwei ledger import/export``: validation, idempotence, exact round trips, several agents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from compliance.events import canonical_json
from compliance.ledgerio import ledger_from_file
from store.db import Store
from tests.compliance.conftest import write_config

GOOD = [
    {"type": "agent", "at": "2026-11-01T00:00:00+08:00", "state": "running"},
    {"type": "state", "device": "cam-1", "at": "2026-11-01T00:00:00+08:00", "state": "up"},
    {"type": "state", "device": "cam-1", "at": "2026-11-02T10:00:00+08:00", "state": "down", "cause": "icmp timeout"},
    {"type": "state", "device": "cam-1", "at": "2026-11-02T10:30:00+08:00", "state": "up"},
    {"type": "state", "device": "cam-2", "at": "2026-11-01T00:00:00Z", "state": "up"},
    {"type": "fault", "id": "F-1", "level": 2, "device": "cam-1", "opened": "2026-11-02T10:00:00+08:00",
     "acknowledged": "2026-11-02T10:05:00+08:00", "resolved": "2026-11-02T10:30:00+08:00", "waived": None,
     "cause": "icmp timeout"},
    {"type": "vuln", "id": "V-1", "unit": "gaj", "system": "lantian", "severity": "high",
     "found": "2026-11-03T09:00:00+08:00", "fixed": None, "mitigated": None, "cve": "CVE-2026-0001"},
    {"type": "record", "kind": "inspection", "unit": "gaj", "system": "lantian", "at": "2026-11-04T10:00:00+08:00",
     "result": "ok", "evidence": "inspections/2026-11-04.txt"},
    {"type": "record", "kind": "meeting_check", "unit": "gaj", "system": None, "at": "2026-11-05T08:30:00+08:00"},
    {"type": "record", "kind": "satisfaction", "unit": "gaj", "at": "2026-11-28T16:00:00+08:00",
     "answers": ["满意", "满意", "基本满意", "满意", "一般"], "accident": False},
    {"type": "agent", "at": "2026-11-30T23:59:00+08:00", "state": "stopped"},
]


def write_lines(path: Path, objects: list[object]) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8")
    return path


def store_of(tmp_path: Path, agent_id: str = "site-a") -> Store:
    return Store(tmp_path / f"data-{agent_id}" / "yunwei.db")


def test_import_writes_transitions_runs_and_events_then_is_idempotent(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "in.jsonl", GOOD)
    assert main(["ledger", "import", "-c", str(config_file), str(source)]) == 0
    first = capsys.readouterr().out
    assert "state: 4 added" in first and "record: 3 added" in first
    with store_of(tmp_path) as store:
        transitions = store.transitions(device="cam-1")
        assert [(t.state, t.previous) for t in transitions] == [("up", "unknown"), ("down", "up"), ("up", "down")]
        assert transitions[1].cause == "icmp timeout"
        assert store.agent_runs() == [("site-a", 1793462400.0, 1793548740.0 + 29 * 86400)]
        assert [uid for uid, *_ in store.events(["fault"])] == ["fault:F-1"]
        count_before = store.db.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    assert main(["ledger", "import", "-c", str(config_file), str(source)]) == 0
    second = capsys.readouterr().out
    assert " added" in second and "1 added" not in second and "4 added" not in second
    assert "state: 0 added, 0 updated, 4 unchanged" in second
    with store_of(tmp_path) as store:
        assert len(store.transitions()) == 4
        assert store.db.execute("SELECT COUNT(*) FROM ledger").fetchone()[0] == count_before
        assert len(store.agent_runs()) == 1


def test_export_import_export_is_byte_identical(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_a = write_config(tmp_path, "site-a")
    config_b = write_config(tmp_path, "site-b")
    source = write_lines(tmp_path / "in.jsonl", GOOD)
    assert main(["ledger", "import", "-c", str(config_a), str(source)]) == 0
    first = tmp_path / "first.jsonl"
    assert main(["ledger", "export", "-c", str(config_a), "-o", str(first)]) == 0
    assert main(["ledger", "import", "-c", str(config_b), str(first)]) == 0
    second = tmp_path / "second.jsonl"
    assert main(["ledger", "export", "-c", str(config_b), "-o", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    lines = first.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(GOOD)
    # times are shown in Beijing time, agent ids kept from the first site
    assert '"at": "2026-11-01T08:00:00+08:00"' in lines[2] or any("08:00:00+08:00" in x for x in lines)
    assert all(json.loads(x)["agent"] == "site-a" for x in lines)
    # the stores hold the same ledger bodies
    with store_of(tmp_path, "site-a") as a, store_of(tmp_path, "site-b") as b:
        assert [e[:3] + (e[4],) for e in a.events()] == [e[:3] + (e[4],) for e in b.events()]


def test_bad_lines_are_all_named_and_nothing_is_imported(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [json.dumps(o, ensure_ascii=False) for o in GOOD[:5]]
    lines.insert(2, '{"type": "state", "device": "cam-1", "at": "2026-11-01T10:00:00", "state": "up"}')
    lines.insert(3, '{"type": "fault", "id": "F-9", "level": 7, "device": "x", "opened": "2026-11-01T10:00:00+08:00"}')
    lines.insert(4, "not json")
    lines.append('{"type": "record", "kind": "notice", "unit": "gaj", "at": "2026-11-01T10:00:00+08:00", "level": "county"}')
    lines.append('{"type": "bogus"}')
    source = tmp_path / "bad.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["ledger", "import", "-c", str(config_file), str(source)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"yunwei: {source}:3: at: '2026-11-01T10:00:00' has no UTC offset (write e.g. 2026-11-03T09:12:00+08:00)",
        f"yunwei: {source}:4: level: must be an integer 1-4, got 7",
        f"yunwei: {source}:5: not valid JSON: Expecting value (column 1)",
        f"yunwei: {source}:9: level: must be one of city, province, national (got \"county\")",
        f"yunwei: {source}:10: type: must be one of state, fault, vuln, record, agent (got \"bogus\")",
    ]
    with store_of(tmp_path) as store:
        assert store.transitions() == []
        assert list(store.events()) == []
        assert store.agent_runs() == []


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ([{"type": "agent", "at": "2026-11-01T00:00:00+08:00", "state": "running"}], "run never ends"),
        ([{"type": "agent", "at": "2026-11-01T00:00:00+08:00", "state": "stopped"}], "stopped without a running line"),
        ([{"type": "fault", "id": "F", "level": 1, "unit": "u", "opened": "2026-11-01T10:00:00+08:00",
           "resolved": "2026-11-01T09:00:00+08:00"}], "resolved: is before opened"),
        ([{"type": "record", "kind": "deduction", "unit": "u", "at": "2026-11-01T10:00:00+08:00", "points": 3}],
         "reason: is required"),
        ([{"type": "record", "kind": "satisfaction", "unit": "u", "at": "2026-11-01T10:00:00+08:00",
           "answers": ["满意", "还行"]}], "answers.1: must be one of 满意"),
        ([{"type": "vuln", "id": "V", "unit": "u", "severity": "urgent", "found": "2026-11-01T10:00:00+08:00"}],
         "severity: must be one of critical, high, medium, low"),
    ],
)
def test_each_kind_of_bad_line_is_refused_with_its_field(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str], objects: list[object], message: str
) -> None:
    source = write_lines(tmp_path / "bad.jsonl", objects)
    assert main(["ledger", "import", "-c", str(config_file), str(source)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{source}:1" in err and message in err


def test_two_sites_import_into_one_central_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    central = write_config(tmp_path, "central")
    site_b = [dict(o, agent="site-b") for o in GOOD if o["type"] in ("agent", "state")]
    site_b = [dict(o, device=o["device"].replace("cam", "b-cam")) if "device" in o else o for o in site_b]
    a = write_lines(tmp_path / "a.jsonl", [dict(o, agent="site-a") for o in GOOD])
    b = write_lines(tmp_path / "b.jsonl", site_b)
    assert main(["ledger", "import", "-c", str(central), str(a)]) == 0
    assert main(["ledger", "import", "-c", str(central), str(b)]) == 0
    with store_of(tmp_path, "central") as store:
        assert sorted(r[0] for r in store.agent_runs()) == ["site-a", "site-b"]
        agents = dict(store.db.execute("SELECT device, agent FROM transitions GROUP BY device").fetchall())
        assert agents == {"cam-1": "site-a", "cam-2": "site-a", "b-cam-1": "site-b", "b-cam-2": "site-b"}
    out = tmp_path / "central.jsonl"
    assert main(["ledger", "export", "-c", str(central), "-o", str(out)]) == 0
    ledger = ledger_from_file(out)
    assert set(ledger.runs) == {"site-a", "site-b"}
    assert ledger.device_agents["b-cam-1"] == frozenset({"site-b"})


def test_events_of_other_components_keep_their_uid_through_a_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_a = write_config(tmp_path, "site-a")
    config_b = write_config(tmp_path, "site-b")
    body = {"type": "record", "kind": "backup", "unit": "u1", "system": "s1", "at": "2026-11-04T02:00:00+08:00",
            "result": "ok"}
    with store_of(tmp_path, "site-a") as store:
        store.put_event("record:backup:probe-7", "record", 1793728800.0, body, agent="site-a")
    out = tmp_path / "a.jsonl"
    assert main(["ledger", "export", "-c", str(config_a), "-o", str(out)]) == 0
    line = json.loads(out.read_text(encoding="utf-8"))
    assert line["uid"] == "record:backup:probe-7"
    assert main(["ledger", "import", "-c", str(config_a), str(out)]) == 0  # back into the same store: no duplicate
    assert "1 unchanged" in capsys.readouterr().out
    assert main(["ledger", "import", "-c", str(config_b), str(out)]) == 0
    with store_of(tmp_path, "site-b") as store:
        [(uid, _type, _at, agent, stored)] = list(store.events())
    assert (uid, agent) == ("record:backup:probe-7", "site-a")
    assert canonical_json(stored) == canonical_json(body)


def test_export_of_a_month_carries_the_state_at_its_start_and_open_faults(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objects = GOOD + [
        {"type": "fault", "id": "F-old", "level": 3, "unit": "gaj", "opened": "2026-10-20T10:00:00+08:00",
         "acknowledged": None, "resolved": None, "waived": None, "cause": "still open"},
        {"type": "fault", "id": "F-done", "level": 3, "unit": "gaj", "opened": "2026-10-20T10:00:00+08:00",
         "resolved": "2026-10-21T10:00:00+08:00"},
    ]
    source = write_lines(tmp_path / "in.jsonl", objects)
    assert main(["ledger", "import", "-c", str(config_file), str(source)]) == 0
    out = tmp_path / "window.jsonl"
    assert main(["ledger", "export", "-c", str(config_file), "--from", "2026-11-03", "--to", "2026-11-04",
                 "-o", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    states = {(o["device"], o["state"], o["at"]) for o in lines if o["type"] == "state"}
    assert states == {("cam-1", "up", "2026-11-02T10:30:00+08:00"), ("cam-2", "up", "2026-11-01T08:00:00+08:00")}
    assert {o["id"] for o in lines if o["type"] == "fault"} == {"F-old"}
    assert {o["id"] for o in lines if o["type"] == "vuln"} == {"V-1"}
    assert [o["state"] for o in lines if o["type"] == "agent"] == ["running", "stopped"]


def test_export_refuses_a_bad_range(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "export", "-c", str(config_file), "--from", "2026-11-05", "--to", "2026-11-01"]) == 2
    assert "--to must be after --from" in capsys.readouterr().err
    assert main(["ledger", "export", "-c", str(config_file), "--from", "next week"]) == 2
    assert "--from" in capsys.readouterr().err


def test_a_live_run_exports_its_last_heartbeat_and_reimports_as_still_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_a = write_config(tmp_path, "site-a")
    config_b = write_config(tmp_path, "site-b")
    with store_of(tmp_path, "site-a") as store:
        run = store.start_run("site-a", now=1793462400.0)
        store.heartbeat(run, now=1793466000.0)
    out = tmp_path / "a.jsonl"
    assert main(["ledger", "export", "-c", str(config_a), "-o", str(out)]) == 0
    stop = json.loads(out.read_text(encoding="utf-8").splitlines()[1])
    assert stop == {"type": "agent", "at": "2026-11-01T01:00:00+08:00", "state": "stopped", "last_heartbeat": True,
                    "agent": "site-a"}
    assert main(["ledger", "import", "-c", str(config_b), str(out)]) == 0
    with store_of(tmp_path, "site-b") as store:
        row = store.db.execute("SELECT agent, started, last_seen, stopped FROM agent_runs").fetchone()
    assert row == ("site-a", 1793462400.0, 1793466000.0, None)


def test_a_maintenance_window_counts_the_same_from_the_store_as_from_the_file(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report reads the store; a maintenance record there must mark its devices' window exactly
    as the same record in a JSON Lines ledger does (it used to be listed but counted as down)."""
    from compliance.ledgerio import load_ledger
    from core.timefmt import parse_iso

    window = {"type": "record", "kind": "maintenance", "unit": "gaj", "system": "lantian", "name": "割接",
              "at": "2026-11-02T09:00:00+08:00", "start": "2026-11-02T09:00:00+08:00",
              "end": "2026-11-02T12:00:00+08:00", "devices": ["cam-1"]}
    source = write_lines(tmp_path / "in.jsonl", [*GOOD, window])
    assert main(["ledger", "import", "-c", str(config_file), str(source)]) == 0
    capsys.readouterr()
    from_file = ledger_from_file(str(source))
    with store_of(tmp_path) as store:
        from_store = load_ledger(store, 1793462400.0, 1793462400.0 + 30 * 86400)
    expected = {"cam-1": [(parse_iso(window["start"]), parse_iso(window["end"]))]}
    assert from_store.maintenance == from_file.maintenance == expected
