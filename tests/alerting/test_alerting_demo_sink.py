"""The demo's chat sink: a DingTalk stand-in that checks signatures and prints what it gets."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import TypeAdapter

from alerting.config import Channel
from alerting.notifiers import make_notifier
from alerting.notifiers.base import DeliveryError, Message
from demo.chat_sink import AlertingDemoPart, ChatSink
from demo.fleet import DemoContext
from inventory.config import config_from_data


def test_the_sink_prints_signed_messages_and_refuses_bad_signatures(capsys):
    sink = ChatSink("tok", "SECright")
    sink.start()
    try:
        message = Message(kind="open", title="【二级故障】雪亮工程 汇聚专线 中断, 6 路摄像机不可达", lines=["- **故障单**: F-1"], mobiles=["13800000000"])
        good = make_notifier("d", TypeAdapter(Channel).validate_python({"type": "dingtalk", "url": sink.url, "secret": "SECright"}))
        assert good.send(good.render(message)) == "errcode=0 ok"
        bad = make_notifier("d", TypeAdapter(Channel).validate_python({"type": "dingtalk", "url": sink.url, "secret": "SECwrong"}))
        with pytest.raises(DeliveryError, match="310000"):
            bad.send(bad.render(message))
    finally:
        sink.stop()
    err = capsys.readouterr().err
    assert "demo chat ◀ 【二级故障】雪亮工程 汇聚专线 中断, 6 路摄像机不可达  (@13800000000)" in err
    assert "- 故障单: F-1" in err
    assert "rejected a message with a bad signature" in err
    assert len(sink.received) == 1


def test_the_demo_part_config_is_valid(tmp_path):
    async def start() -> dict:
        part = AlertingDemoPart()
        fleet = await part.start(DemoContext(data_dir=tmp_path, seconds=60))
        await part.stop()
        return {"agent": {"data_dir": str(tmp_path)}, "units": fleet.units, "systems": fleet.systems, "groups": fleet.groups,
                "devices": fleet.devices, **fleet.sections}

    inventory = config_from_data(asyncio.run(start()), source=str(tmp_path / "demo.yaml"))
    assert inventory.config.alerting.routes[0].channels == ["demo-dingtalk"]
    assert [d.parent for d in inventory.devices.values() if d.kind == "camera"] == ["demo-line"] * 6
