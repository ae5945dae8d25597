"""The commands as a user runs them: record, report from the store by contract name, contracts,
and one clear error (exit 2) for bad ledger lines, unknown contracts, empty periods, bad contracts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli.main import main
from store.db import Store
from tests.compliance.conftest import CONTRACTS, REPO, write_config
from tests.compliance.ledgers import MUNICIPAL_NOW, municipal_month, rec, t

CONTRACTS_SECTION = f"""units: [{{id: gaj, name: 市公安局}}]
contracts:
  - {CONTRACTS / 'municipal.yaml'}
  - {{id: hall, file: {CONTRACTS / 'service_hall.yaml'}}}
"""


def write_jsonl(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


def test_record_commands_write_checked_ledger_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, extra=CONTRACTS_SECTION)
    c = ["-c", str(config)]
    assert main(["record", "visit", *c, "--unit", "gaj", "--at", "2026-11-12 10:00"]) == 0
    assert main(["record", "visit", *c, "--unit", "gaj", "--at", "2026-11-12 10:00"]) == 0
    assert "unchanged" in capsys.readouterr().out.splitlines()[-1]
    assert main(["record", "satisfaction", *c, "--unit", "gaj", "--at", "2026-11-28 16:00", "--answers",
                 "满意,基本满意，一般", "--accident", "no"]) == 0
    assert main(["record", "document", *c, "--unit", "*", "--at", "2026-11-30 17:00", "--document", "运维工作月报"]) == 0
    assert main(["record", "penalty", *c, "--unit", "gaj", "--amount", "10000", "--reason", "风险未整改"]) == 0
    assert main(["record", "other", "meeting_check", *c, "--unit", "gaj", "-f", "venue=301", "-f", "ok=true"]) == 0
    assert main(["record", "vuln", *c, "--id", "V-7", "--unit", "gaj", "--system", "tianyan", "--severity", "high",
                 "--found", "2026-11-01 09:00", "--cve", "CVE-2026-7777"]) == 0
    assert main(["record", "vuln", *c, "--id", "V-7", "--fixed", "2026-11-05 10:00"]) == 0
    assert main(["record", "fault", *c, "--id", "W-1", "--level", "3", "--unit", "gaj", "--opened",
                 "2026-11-02 10:00", "--cause", "打印机卡纸"]) == 0
    assert main(["record", "fault", *c, "--id", "W-1", "--acknowledged", "2026-11-02 10:05", "--resolved",
                 "2026-11-02 11:00"]) == 0
    with Store(tmp_path / "data-site-a" / "yunwei.db") as store:
        events = {uid: body for uid, _type, _at, _agent, body in store.events()}
    assert events["vuln:V-7"] == {"type": "vuln", "id": "V-7", "unit": "gaj", "system": "tianyan", "severity": "high",
                                  "found": "2026-11-01T09:00:00+08:00", "fixed": "2026-11-05T10:00:00+08:00",
                                  "mitigated": None, "cve": "CVE-2026-7777"}
    assert events["fault:W-1"]["acknowledged"] == "2026-11-02T10:05:00+08:00"
    assert events["fault:W-1"]["cause"] == "打印机卡纸" and events["fault:W-1"]["level"] == 3
    kinds = sorted(b["kind"] for b in events.values() if b["type"] == "record")
    assert kinds == ["document", "meeting_check", "penalty", "satisfaction", "visit"]
    satisfaction = next(b for b in events.values() if b.get("kind") == "satisfaction")
    assert satisfaction["answers"] == ["满意", "基本满意", "一般"] and satisfaction["accident"] is False
    meeting = next(b for b in events.values() if b.get("kind") == "meeting_check")
    assert (meeting["venue"], meeting["ok"]) == (301, True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["record", "deduction", "--unit", "gaj", "--points", "3"], "--reason: is required"),
        (["record", "notice", "--unit", "nowhere", "--level", "city"], "--unit: unknown unit 'nowhere'"),
        (["record", "visit", "--unit", "gaj", "--at", "yesterday"], "--at: 'yesterday' is not a time"),
        (["record", "penalty", "--unit", "gaj", "--reason", "x"], "--amount: a penalty has an amount"),
        (["record", "vuln", "--unit", "gaj"], "--id: a vulnerability needs --id"),
        (["record", "fault", "--id", "W-9", "--level", "3", "--unit", "gaj", "--opened", "2026-11-02 10:00", "--resolved",
          "2026-11-02 09:00"], "--resolved: is before opened"),
    ],
)
def test_record_errors_name_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                       message: str) -> None:
    config = write_config(tmp_path, extra=CONTRACTS_SECTION)
    assert main([*argv, "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_report_from_the_store_equals_the_report_from_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, extra=CONTRACTS_SECTION)
    # a planned-maintenance window filed as a record (as alerting files it): read from the store as well
    window = rec("maintenance", "sthjj", "2026-09-26T00:00", "lantian", name="固件升级", start=t("2026-09-26T00:00"),
                 end=t("2026-09-26T03:00"), devices=["lantian-010"])
    ledger = write_jsonl(tmp_path / "month.jsonl", [*municipal_month(), window])
    assert main(["ledger", "import", "-c", str(config), "--agent", "", str(ledger)]) == 0
    from_store = tmp_path / "store.json"
    from_file = tmp_path / "file.json"
    assert main(["report", "-c", str(config), "--contract", "municipal", "--period", "2026-09", "--now", MUNICIPAL_NOW,
                 "-o", str(from_store)]) == 0
    err = capsys.readouterr().err
    assert "loading the ledger from" in err and "online rates: 3 groups, 70 devices" in err
    assert "municipal 2026-09: score 89.50, 良好, cut 5% = ¥48,437.50, penalties ¥70,000.00" in err
    assert main(["report", "-q", "-c", str(config), "--contract", str(CONTRACTS / "municipal.yaml"), "--period",
                 "2026-09", "--now", MUNICIPAL_NOW, "--ledger", str(ledger), "-o", str(from_file)]) == 0
    stored = json.loads(from_store.read_text(encoding="utf-8"))
    assert stored == json.loads(from_file.read_text(encoding="utf-8"))
    assert next(g for g in stored["online_rates"] if g["group"] == "lantian")["maintenance_hours"] == 9.0  # 6 + 3


def test_report_json_goes_to_stdout_and_contract_names_resolve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, extra=CONTRACTS_SECTION)
    ledger = write_jsonl(tmp_path / "month.jsonl", municipal_month())
    assert main(["report", "-q", "-c", str(config), "--contract", "hall", "--period", "2026-09", "--ledger",
                 str(ledger), "--now", MUNICIPAL_NOW]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["contract"]["id"] == "service_hall"
    assert main(["contracts", "-c", str(config)]) == 0
    listed = capsys.readouterr().out
    assert "municipal: 市级政务信息化运维服务包" in listed and "hall: 政务服务大厅智能化系统运维" in listed


def test_errors_are_one_clear_line_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, extra=CONTRACTS_SECTION)
    ledger = write_jsonl(tmp_path / "month.jsonl", municipal_month())
    base = ["report", "-q", "-c", str(config), "--now", MUNICIPAL_NOW, "--ledger", str(ledger)]

    def error(argv: list[str]) -> str:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        return err

    assert "unknown contract 'city' (known: municipal, hall; or give a contract file path)" in error(
        [*base, "--contract", "city", "--period", "2026-09"])
    assert "no ledger data for contract municipal in period 2026-05 (2026-05-10..2026-06-09)" in error(
        [*base, "--contract", "municipal", "--period", "2026-05"])
    assert "--period: 'Sept' is not a period" in error([*base, "--contract", "municipal", "--period", "Sept"])
    assert "contract municipal is assessed monthly" in error([*base, "--contract", "municipal", "--period", "2026"])
    assert "--period: period 2027-01 has not started yet" in error([*base, "--contract", "municipal", "--period", "2027-01"])
    assert "xlsx output needs -o FILE" in error([*base, "--contract", "municipal", "--period", "2026-09", "--format", "xlsx"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(ledger.read_text(encoding="utf-8") + '{"type": "state", "device": "x", "at": "2026-09-11T10:00:00+08:00"}\n',
                   encoding="utf-8")
    lines = len(municipal_month()) + 1
    assert f"{bad}:{lines}: state: must be one of up, down, unknown, maintenance (got missing)" in error(
        ["report", "-q", "-c", str(config), "--contract", "municipal", "--period", "2026-09", "--ledger", str(bad)])
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  start_day: 10\n", "  start_day: 40\n", ":22: period.start_day: Input should be less than or equal to 28"),
        ("        - {kind: count, id: visit,", "        - {kind: tally, id: visit,",
         ": scoring.parts.1.rules.0: unknown rule kind"),
        ("        - {kind: count, id: visit, record: visit, per: unit, ladder: [{at_least: 1, points: 8}]}",
         "        - {kind: count, id: visit, record: visit, per: unit, ladder: [{at_least: 1, points: 8}], cap: 8}",
         ": scoring.parts.1.rules.0: give either points_each (with cap) or ladder"),
        ("  - {id: lantian, name: 蓝天卫士视频监控系统（329 路）, unit: sthjj,",
         "  - {id: lantian, name: 蓝天卫士视频监控系统（329 路）, unit: hbj,", ":51: systems.2.unit: unknown unit 'hbj'"),
        ("    - {min: 80, grade: 良好", "    - {min: 95, grade: 良好", ": grades: band minimums must strictly decrease"),
        ("  fee_per_year: 11625000\n", "  fee_per_year: 11625000\n  fee_per_month: 1\n", ": money.fee_per_month: unknown key"),
    ],
)
def test_contract_errors_name_file_line_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str,
                                                  message: str) -> None:
    text = (CONTRACTS / "municipal.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    contract = tmp_path / "broken.yaml"
    contract.write_text(text.replace(old, new), encoding="utf-8")
    ledger = write_jsonl(tmp_path / "month.jsonl", municipal_month())
    assert main(["report", "-q", "-c", str(tmp_path / "none.yaml"), "--contract", str(contract), "--period", "2026-09",
                 "--ledger", str(ledger)]) == 2
    err = capsys.readouterr().err
    assert f"yunwei: {contract}" in err and message in err, err


def test_config_example_with_contracts_passes_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = tmp_path / "config.example.yaml"
    shutil.copy(REPO / "config.example.yaml", example)
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    assert main(["check", "-c", str(example)]) == 0
    assert main(["contracts", "-c", str(example)]) == 0
    out = capsys.readouterr().out
    assert "municipal" in out and "service_hall" in out and "vc_medical" in out


def test_record_backup_verify_reads_the_backup_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A backup probe: the file must be recent and read back whole; what it finds is the record's result
    (vc_medical: missed −5, not restorable −8)."""
    import gzip
    import io
    import os
    import tarfile
    import time

    config = write_config(tmp_path, extra=CONTRACTS_SECTION)
    backups = tmp_path / "backups"
    backups.mkdir()
    good = backups / "db-good.tar.gz"
    with tarfile.open(good, "w:gz") as archive:
        data = os.urandom(300_000)  # incompressible: the archive is large enough to cut in half
        info = tarfile.TarInfo("db.sql")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    cut = backups / "db-cut.tar.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    dump = backups / "app.sql.gz"
    dump.write_bytes(gzip.compress(b"insert into t values (1);\n" * 1000))
    old = backups / "old.zip"
    old.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip, but two days old
    two_days_ago = time.time() - 48 * 3600
    os.utime(old, (two_days_ago, two_days_ago))

    def bodies() -> dict[str, dict[str, object]]:
        with Store(tmp_path / "data-site-a" / "yunwei.db") as store:
            return {uid: body for uid, _type, _at, _agent, body in store.events(["record"])}

    def verify(path: Path, *extra: str) -> dict[str, object]:
        before = bodies()
        assert main(["record", "backup", "-c", str(config), "--unit", "gaj", "--system", "tianyan", "--verify", str(path),
                     *extra]) == 0
        [new] = [body for uid, body in bodies().items() if uid not in before]
        return new

    ok = verify(good)
    assert ok["result"] == "ok" and ok["size"] == good.stat().st_size and len(str(ok["sha256"])) == 64
    assert ok["checked_by"] == "probe" and "error" not in ok
    assert "db-good.tar.gz: ok" in capsys.readouterr().out
    bad = verify(cut)
    assert bad["result"] == "not_restorable" and "does not read back" in str(bad["error"])
    assert verify(dump)["result"] == "ok"
    stale = verify(old)
    assert stale["result"] == "missed" and "48.0 h old" in str(stale["error"])
    assert verify(old, "--max-age-hours", "72")["result"] == "ok"
    missing = verify(backups / "nothing-here.tar")
    assert (missing["result"], missing["error"]) == ("missed", "file not found")
    os.utime(dump, (time.time() + 60, time.time() + 60))  # the directory's newest file is checked
    assert verify(backups)["evidence"] == str(dump)
    assert main(["record", "backup", "-c", str(config), "--unit", "gaj", "--verify", str(good), "--result", "ok"]) == 2
    assert "--verify: --verify sets the result and evidence itself" in capsys.readouterr().err


def test_contracts_init_writes_the_shipped_examples_and_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "examples" / "contracts"
    assert main(["contracts", "init", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["municipal.yaml", "service_hall.yaml", "vc_medical.yaml"]
    assert (target / "municipal.yaml").read_text(encoding="utf-8") == (CONTRACTS / "municipal.yaml").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["contracts", "init", str(target)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"yunwei: {target / 'municipal.yaml'}: exists already (give --force to overwrite the example contracts)"
    )
    assert main(["contracts", "init", str(target), "--force"]) == 0
    # config.example.yaml beside them passes check, as after a pip install
    shutil.copy(REPO / "config.example.yaml", tmp_path / "config.yaml")
    assert main(["check", "-c", str(tmp_path / "config.yaml")]) == 0


def test_check_warns_when_the_config_and_the_contract_disagree_on_a_groups_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["contracts", "init", str(tmp_path / "examples" / "contracts")]) == 0
    text = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(text.replace("threshold: 0.95            # contract", "threshold: 0.90            # contract"), encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "-c", str(config)]) == 0  # a warning, not an error
    assert capsys.readouterr().err.strip() == (
        f"yunwei: warning: {config}:40: groups.0.online_rate.threshold: group 'lantian-cameras' threshold 0.9 here but 0.95"
        f" in {tmp_path / 'examples/contracts/municipal.yaml'}:77: online_rate.groups.0.threshold (contract group 'lantian'):"
        " the live status and alerts use 90%, the monthly report 95%"
    )
    config.write_text(text, encoding="utf-8")
    assert main(["check", "-c", str(config)]) == 0
    assert capsys.readouterr().err == ""
