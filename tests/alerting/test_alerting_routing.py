"""Routes: per unit/system/group/kind/level/event → which channels, and whom to @ (only on some events)."""

from __future__ import annotations

import pytest
from alerting_support import down, feed, outbox

from alerting import lifecycle
from alerting.config import AlertingConfig
from alerting.routing import Target, route

CHANNELS = {name: {"type": "webhook", "url": f"http://127.0.0.1:9/{name}"} for name in ("ops", "gaj", "leaders", "night")}
ROUTES = [
    {"levels": [4], "channels": ["night"], "stop": True},  # level 4: the night channel only
    {"channels": ["ops"], "mention_mobiles": ["13800000001"]},
    {"units": ["gaj"], "channels": ["gaj"], "mention_user_ids": ["u-gaj"], "mention_on": ["open"]},
    {"levels": [1, 2], "events": ["open", "escalated", "overdue", "resolved"], "channels": ["leaders"], "mention_all": True},
    {"groups": ["cams"], "kinds": ["camera"], "channels": ["gaj"], "mention_mobiles": ["13900000002"]},
]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (Target("open", 3, unit="fgw"), {"ops": (["13800000001"], [], False)}),
        (Target("open", 1, unit="gaj"), {"ops": (["13800000001"], [], False), "gaj": ([], ["u-gaj"], False), "leaders": ([], [], True)}),
        (Target("ack", 1, unit="gaj"), {"ops": ([], [], False), "gaj": ([], [], False)}),  # no @ on an ack; leaders not told
        (Target("overdue", 2, unit="gaj"), {"ops": (["13800000001"], [], False), "gaj": ([], [], False), "leaders": ([], [], True)}),
        (Target("reminder", 2, unit="fgw"), {"ops": ([], [], False)}),
        (Target("open", 4, unit="gaj"), {"night": ([], [], False)}),  # stop: true ends the walk
        (Target("open", 3, unit="gaj", group="cams", kind="camera"),
         {"ops": (["13800000001"], [], False), "gaj": (["13900000002"], ["u-gaj"], False)}),  # two routes, one channel: mentions merged
        (Target("open", 3, unit="gaj", group="cams", kind="switch"), {"ops": (["13800000001"], [], False), "gaj": ([], ["u-gaj"], False)}),
    ],
)
def test_routes_pick_channels_and_mentions(target, expected):
    config = AlertingConfig.model_validate({"channels": CHANNELS, "routes": ROUTES})
    found = {name: (m.mobiles, m.user_ids, m.all) for name, m in route(config, target).items()}
    assert found == expected


def test_a_fault_reaches_the_channels_of_its_unit_and_level_end_to_end(build, clock):
    config = {
        "units": [{"id": "gaj", "name": "市公安局"}, {"id": "fgw", "name": "市发改委"}],
        "systems": [{"id": "net", "name": "电子政务外网", "unit": "fgw"}, {"id": "police", "name": "公安专网", "unit": "gaj"}],
        "groups": [{"id": "cams", "name": "摄像机", "unit": "gaj", "system": "police", "kind": "camera"}],
        "defaults": {"probes": {"tcp": {"port": 22}}},
        "devices": [
            {"id": "core-1", "name": "核心交换机", "kind": "switch", "role": "core", "address": "10.0.0.1", "unit": "gaj", "system": "police"},
            {"id": "pc-1", "name": "办公电脑", "kind": "pc", "address": "10.0.0.2", "unit": "fgw", "system": "net"},
        ],
        "alerting": {"hold_seconds": 0, "rules": [{"roles": "core", "level": 1}], "channels": CHANNELS, "routes": ROUTES},
    }
    service, store = build(config)
    t = clock.now
    feed(service, store, [down("core-1", t), down("pc-1", t)], t)
    rows = outbox(store)
    by_channel = {(r["channel"], r["body"]["title"]): r["body"]["mention"] for r in rows}
    assert by_channel == {
        ("ops", "【一级故障】公安专网 核心交换机 中断"): {"mobiles": ["13800000001"], "user_ids": [], "all": False},
        ("gaj", "【一级故障】公安专网 核心交换机 中断"): {"mobiles": [], "user_ids": ["u-gaj"], "all": False},
        ("leaders", "【一级故障】公安专网 核心交换机 中断"): {"mobiles": [], "user_ids": [], "all": True},
        ("ops", "【三级故障】电子政务外网 办公电脑 中断"): {"mobiles": ["13800000001"], "user_ids": [], "all": False},
    }
    fault = next(f for f in service.faults.active() if f.device == "core-1")
    lifecycle.acknowledge(service.faults, fault.id, "张三", t + 60)
    service.tick(t + 60)
    acks = [(r["channel"], r["body"]["mention"]["mobiles"]) for r in outbox(store) if r["kind"] == "ack"]
    assert acks == [("ops", []), ("gaj", [])]
