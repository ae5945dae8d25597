"""A notifier is one module plus its registration: a test-only module registers one, and it is
a valid ``channels:`` type, is refused when misconfigured (file, line, field) and delivers a
real fault message, with no central file edited."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from alerting_support import camera_fleet, down, feed

from alerting.config import AlertingConfig
from alerting.notifiers import notifier_types
from alerting.notifiers.base import NOTIFIERS
from cli.main import main


@pytest.fixture(autouse=True)
def fake_notifier() -> Iterator[ModuleType]:
    """Import the test-only module (its import registers the notifier); forget it afterwards so
    that the other tests see only the built-in notifiers."""
    module = importlib.import_module("fake_notifier")
    NOTIFIERS.register(module.PagerNotifier)  # again, when an earlier test unregistered it
    module.DELIVERED.clear()
    yield module
    NOTIFIERS.unregister("test_pager")


def test_the_registered_notifier_is_a_channel_type() -> None:
    assert "test_pager" in notifier_types()
    config = AlertingConfig.model_validate({"channels": {"duty": {"type": "test_pager", "pager": "12345"}}})
    assert config.channels["duty"].pager == "12345"


def test_a_misconfigured_channel_of_the_new_type_is_refused_with_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "agent: {id: a, data_dir: data}\n"
        "devices:\n  - {id: d, address: 127.0.0.1, probes: {tcp: {port: 22}}}\n"
        "alerting:\n  channels:\n    duty:\n      type: test_pager\n      pager: call-me\n"
    )
    assert main(["check", "-c", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"yunwei: {config}:8: alerting.channels.duty.pager: "), err


def test_a_fault_reaches_the_new_channel(build, clock, fake_notifier: ModuleType) -> None:  # type: ignore[no-untyped-def]
    fleet = camera_fleet(3, {"channels": {"duty": {"type": "test_pager", "pager": "12345"}}, "routes": [{"channels": ["duty"]}]})
    service, store = build(fleet)
    feed(service, store, [down("line-1", clock.now)], clock.now)
    clock.advance(120)
    service.tick()
    service.outbox.deliver_due()
    assert fake_notifier.DELIVERED, "nothing was paged"
    assert fake_notifier.DELIVERED[0]["pager"] == "12345" and "汇聚专线" in str(fake_notifier.DELIVERED[0])


def test_unregistering_takes_the_type_out_of_the_union_again() -> None:
    NOTIFIERS.unregister("test_pager")
    assert "test_pager" not in notifier_types()
    with pytest.raises(ValueError, match="test_pager"):
        AlertingConfig.model_validate({"channels": {"duty": {"type": "test_pager", "pager": "12345"}}})
