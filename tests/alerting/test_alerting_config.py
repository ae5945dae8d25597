"""The ``alerting:`` section: the example validates (with its chat block), mistakes name file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from alerting.config import AlertingConfig
from alerting.notifiers import notifier_types
from alerting.service import AlertingService
from cli.main import main
from core.errors import InputError
from core.model import State, Transition
from inventory.config import load_config
from store.db import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.yaml"


EXAMPLE_ENV = ("YUNWEI_DINGTALK_TOKEN", "YUNWEI_DINGTALK_SECRET", "YUNWEI_WECOM_KEY", "YUNWEI_FEISHU_HOOK",
               "YUNWEI_FEISHU_SECRET", "YUNWEI_SMTP_HOST", "YUNWEI_SMTP_PASSWORD")


def test_the_example_channels_are_on_with_their_variables_set(monkeypatch):
    for name in EXAMPLE_ENV:
        monkeypatch.setenv(name, f"value-of-{name}")
    inventory = load_config(str(EXAMPLE))
    alerting = inventory.config.alerting
    assert sorted(alerting.channels) == ["gaj-wecom", "leaders-feishu", "managers-mail", "ops-dingtalk"]
    assert alerting.channels["ops-dingtalk"].url.endswith("access_token=value-of-YUNWEI_DINGTALK_TOKEN")
    assert alerting.channels["ops-dingtalk"].secret.get_secret_value() == "value-of-YUNWEI_DINGTALK_SECRET"
    assert "value-of" not in repr(alerting.channels["ops-dingtalk"].secret)  # never printed by accident
    assert [channel.missing() for channel in alerting.channels.values()] == [None] * 4
    assert len(alerting.routes) == 4 and inventory.config.maintenance[0].weekly.days == [5]


def test_the_example_channels_without_their_variables_are_off_and_say_so(monkeypatch, tmp_path, caplog, capsys, clock):
    for name in EXAMPLE_ENV:
        monkeypatch.delenv(name, raising=False)
    inventory = load_config(str(EXAMPLE))
    alerting = inventory.config.alerting
    assert {name: channel.missing() for name, channel in alerting.channels.items()} == {
        "ops-dingtalk": "the access_token in its url is empty",
        "gaj-wecom": "the key in its url is empty",
        "leaders-feishu": "the hook id at the end of its url is empty",
        "managers-mail": "its host is empty",
    }
    assert alerting.channels["ops-dingtalk"].secret is None  # empty: no signing, not an empty key
    store = Store(tmp_path / "example.db")
    try:
        with caplog.at_level("WARNING", logger="yunwei.alerting"):
            service = AlertingService(store, inventory, clock)  # a Tuesday 09:00: no maintenance window
        assert "alerting channel ops-dingtalk is off: the access_token in its url is empty" in caplog.text
        assert service.outbox.notifiers == {}
        core = next(d for d in inventory.devices.values() if d.role == "core")
        caplog.clear()
        with caplog.at_level("WARNING", logger="yunwei.alerting"):
            now = service.clock()
            store.add_transitions([Transition(core.id, now, State.DOWN, State.UP, "timeout")], agent="t")
            service.on_round([], [Transition(core.id, now, State.DOWN, State.UP, "timeout")], now)
            service.tick(now + 60)  # past hold_seconds
        assert len(service.faults.active()) == 1  # recorded all the same
        assert store.db.execute("SELECT COUNT(*) FROM alert_outbox").fetchone()[0] == 0  # nothing piles up
        assert "chat message(s) not sent to ops-dingtalk: the channel is off (the access_token in its url is empty)" in caplog.text
    finally:
        store.close()
    config = tmp_path / "config.yaml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8").replace("data_dir: /var/lib/yunwei ", f"data_dir: {tmp_path / 'data'} "))
    assert main(["faults", "outbox", "-c", str(config)]) == 0
    assert "channel managers-mail is off: its host is empty" in capsys.readouterr().out


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
        ("  channels:\n    x: {url: 'https://x'}\n", "alerting.channels.x: a channel needs type: (dingtalk, email, feishu, webhook, wecom)"),
        ("  channels:\n    x: {type: wecom, url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send'}\n", "ends in ?key="),
        ("  channels:\n    x: {type: dingtalk, url: 'ftp://x'}\n", "is not an http:// or https:// URL"),
        ("  levels: {1: {respond_minutes: 10, resolve_minutes: 60}}\n", "missing 2, 3, 4"),
        ("  reminders: [0.5, 1.5]\n", "between 0 and 1"),
        ("  rules:\n    - {sources: [typo], level: 1}\n", "unknown source 'typo'"),
        ("  rules:\n    - {kinds: camera, level: 5}\n", "less than or equal to 4"),
        ("  thresholds:\n    - {name: a, metric: m, op: '>', value: 1}\n    - {name: a, metric: m, op: '<', value: 1}\n", "duplicate name 'a'"),
        ("  routes:\n    - {channels: [], events: [opened]}\n", "unknown event 'opened'"),
        ("  maintenance:\n    - {name: w, devices: [d], weekly: {days: [sat], start: '01:00', end: '02:00'}}\n", "moved out of alerting"),
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


def test_the_channel_types_named_in_errors_are_the_registered_notifiers():
    with pytest.raises(ValidationError, match=", ".join(notifier_types())):
        AlertingConfig.model_validate({"channels": {"ops": {"url": "https://example.cn/hook"}}})
