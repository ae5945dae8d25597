"""The ``alerting:`` section: the example validates (with its chat block), mistakes name file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import InputError
from alerting.config import AlertingConfig
from inventory.config import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.yaml"


def test_the_example_config_with_its_chat_block_uncommented(monkeypatch):
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("  # channels:")
    enabled = lines[:start] + [line.replace("  # ", "  ", 1) for line in lines[start:] if line.startswith("  # ")]
    for name in ("DINGTALK_TOKEN", "DINGTALK_SECRET", "WECOM_KEY", "FEISHU_HOOK", "FEISHU_SECRET", "SMTP_PASSWORD"):
        monkeypatch.setenv(name, f"value-of-{name}")
    inventory = load_config(str(EXAMPLE), "\n".join(enabled) + "\n")
    alerting = inventory.config.alerting
    assert sorted(alerting.channels) == ["gaj-wecom", "leaders-feishu", "managers-mail", "ops-dingtalk"]
    assert alerting.channels["ops-dingtalk"].url.endswith("access_token=value-of-DINGTALK_TOKEN")
    assert alerting.channels["ops-dingtalk"].secret.get_secret_value() == "value-of-DINGTALK_SECRET"
    assert "value-of" not in repr(alerting.channels["ops-dingtalk"].secret)  # never printed by accident
    assert len(alerting.routes) == 4 and alerting.maintenance[0].weekly.days == [5]
    monkeypatch.delenv("WECOM_KEY")
    with pytest.raises(InputError, match="environment variable 'WECOM_KEY' is not set"):
        load_config(str(EXAMPLE), "\n".join(enabled) + "\n")


def test_defaults_are_the_municipal_contract():
    config = AlertingConfig()
    assert {level: (spec.respond_minutes, spec.resolve_minutes) for level, spec in config.levels.items()} == {
        1: (10, 120), 2: (10, 240), 3: (20, 1440), 4: (30, 1440)
    }
    assert (config.reminders, config.default_level, config.channels) == ([0.5, 0.8], 3, {})


@pytest.mark.parametrize(
    ("alerting", "message"),
    [
        ("  routes:\n    - {channels: [nope]}\n", "routes[0]: unknown channel 'nope'"),
        ("  channels:\n    x: {type: slack, url: 'https://x'}\n", "x"),
        ("  channels:\n    x: {type: wecom, url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send'}\n", "ends in ?key="),
        ("  channels:\n    x: {type: dingtalk, url: 'ftp://x'}\n", "is not an http:// or https:// URL"),
        ("  levels: {1: {respond_minutes: 10, resolve_minutes: 60}}\n", "missing 2, 3, 4"),
        ("  reminders: [0.5, 1.5]\n", "between 0 and 1"),
        ("  rules:\n    - {sources: [typo], level: 1}\n", "unknown source 'typo'"),
        ("  rules:\n    - {kinds: camera, level: 5}\n", "less than or equal to 4"),
        ("  thresholds:\n    - {name: a, metric: m, op: '>', value: 1}\n    - {name: a, metric: m, op: '<', value: 1}\n", "duplicate name 'a'"),
        ("  routes:\n    - {channels: [], events: [opened]}\n", "unknown event 'opened'"),
        ("  maintenance:\n    - {name: w, devices: [d], weekly: {days: [funday], start: '01:00', end: '02:00'}}\n", "not a weekday"),
    ],
)
def test_mistakes_are_reported_with_file_and_line(tmp_path, alerting, message):
    path = tmp_path / "config.yaml"
    path.write_text("devices: []\nalerting:\n  enabled: true\n" + alerting, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_config(path)
    text = str(caught.value)
    assert message in text, text
    assert str(path) in text and ":" in text.split(str(path))[1][:3]  # file:line
