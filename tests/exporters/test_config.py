"""Exporter misconfiguration is one clear error at ``yunwei check``: file, line, field, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main

HEAD = """agent: {id: site-a, data_dir: data}
devices:
  - {id: sw-1, address: 127.0.0.1, probes: {tcp: {port: 22}}}
exporters:
"""
REPO = Path(__file__).parents[2]


@pytest.mark.parametrize(
    ("section", "line", "field", "message"),
    [
        ("  influxdb:\n    flavor: victoriametrics\n    url: htp://127.0.0.1:8428\n", 7, "exporters.influxdb.url",
         "is not an http:// or https:// URL"),
        ("  influxdb:\n    flavor: victoriametrics\n    url: http://:8428\n", 7, "exporters.influxdb.url", "has no host name"),
        ("  influxdb:\n    flavor: victoriametrics\n    url: http://10.0.0.5:99999\n", 7, "exporters.influxdb.url",
         "not a valid URL"),
        ("  influxdb:\n    url: http://10.0.0.5:8086\n    org: ops\n    bucket: yunwei\n", 5, "exporters.influxdb",
         "token is required for flavor influxdb2"),
        ("  influxdb:\n    flavor: influxdb1\n    url: http://10.0.0.5:8086\n    token: secret\n", 5,
         "exporters.influxdb", "the token is 'username:password'"),
        ("  influxdb:\n    flavor: victoriametrics\n    url: http://10.0.0.5:8428\n    batchsize: 10\n", 8,
         "exporters.influxdb.batchsize", "unknown key"),
        ("  graphite:\n    url: tcp://10.0.0.5:2003\n", 5, "exporters.graphite",
         "unknown exporter (known: influxdb, prometheus)"),
        ("  prometheus:\n    listen: 127.0.0.1\n", 6, "exporters.prometheus.listen", "is not host:port"),
        ("  prometheus:\n    listen: 127.0.0.1:70000\n", 6, "exporters.prometheus.listen", "out of range"),
    ],
)
def test_misconfigured_exporter_fails_check_with_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, line: int, field: str, message: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(HEAD + section)
    assert main(["check", "-c", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"yunwei: {config}:{line}: {field}: ")
    assert message in err[0]


def test_token_is_not_echoed_in_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(HEAD + "  influxdb:\n    flavor: influxdb1\n    url: http://h:8086\n    token: s3cr3t-token\n")
    assert main(["check", "-c", str(config)]) == 2
    assert "s3cr3t" not in capsys.readouterr().err


def test_valid_exporters_and_the_example_config_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        HEAD
        + "  influxdb:\n    url: https://influx.example.cn:8086/\n    org: ops\n    token: ${env:YW_TEST_TOKEN}\n"
        + "  prometheus:\n    listen: '[::1]:9469'\n"
    )
    monkeypatch.setenv("YW_TEST_TOKEN", "abc")
    assert main(["check", "-c", str(config)]) == 0
    assert main(["check", "-c", str(REPO / "config.example.yaml")]) == 0
    from inventory.config import load_config

    exporters = load_config(REPO / "config.example.yaml").config.exporters
    assert exporters.influxdb is not None and exporters.prometheus is not None  # the example documents both
