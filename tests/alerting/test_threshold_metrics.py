"""A threshold rule must name a metric that a probe it selects emits (collectors declare them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main

HEAD = """agent: {id: site-a, data_dir: data}
devices:
  - {id: sw-1, kind: switch, address: 127.0.0.1, probes: {icmp: {}, snmp: {community: public, oids: [{name: cpu_load, oid: 1.3.6.1.4.1.2021.10.1.3.1}]}}}
  - {id: web-1, kind: website, address: 127.0.0.1, probes: {http: {url: "http://127.0.0.1/"}}}
alerting:
  thresholds:
"""


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], rules: str) -> tuple[int, list[str]]:
    config = tmp_path / "config.yaml"
    config.write_text(HEAD + rules)
    code = main(["check", "-c", str(config)])
    return code, capsys.readouterr().err.strip().splitlines()


def test_a_misspelt_metric_is_refused_with_file_line_field_and_the_valid_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = check(tmp_path, capsys, "    - {name: loss, metric: loss_pct, op: '>', value: 20, kinds: switch}\n")
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"yunwei: {tmp_path / 'config.yaml'}:7: alerting.thresholds.0.metric: 'loss_pct'")
    valid = err[0].split("valid: ")[1].split(", ")
    assert "loss_percent" in valid and "rtt_seconds" in valid and "if.*.in_util_percent" in valid
    assert "cpu_load" in valid  # the switch's own SNMP OID is a metric too
    assert "cert_days_left" not in valid  # the website's, not the switch's


def test_a_metric_of_a_probe_the_rule_does_not_select_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = check(tmp_path, capsys, "    - {name: cert, metric: cert_days_left, op: '<', value: 30, kinds: switch}\n")
    assert code == 2
    assert "alerting.thresholds.0.metric" in err[0] and "http emit it" in err[0]


@pytest.mark.parametrize(
    "rule",
    [
        "{name: loss, metric: loss_percent, op: '>', value: 20, kinds: switch}",
        "{name: cert, metric: cert_days_left, op: '<', value: 30}",  # no filter: any collector
        "{name: cpu, metric: cpu_load, op: '>', value: 90, probes: snmp}",
        "{name: port, metric: if.Gi0/1.in_util_percent, op: '>', value: 90, devices: sw-1}",
    ],
)
def test_metrics_the_selected_probes_emit_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str], rule: str) -> None:
    code, err = check(tmp_path, capsys, f"    - {rule}\n")
    assert (code, err) == (0, [])


def test_a_level_rule_naming_an_unknown_metric_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(HEAD.replace("  thresholds:\n", "  rules:\n    - {level: 2, metrics: [loss_percent, loss_pct]}\n"))
    assert main(["check", "-c", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"yunwei: {config}:7: alerting.rules.0.metrics: 'loss_pct' is not a metric"), err
