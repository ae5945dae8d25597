"""Helpers for the alerting tests: an injected clock, fleets with parent links, outbox readers."""

from __future__ import annotations

import json
from typing import Any

from alerting.notifiers.base import Payload
from alerting.service import AlertingService
from core.model import Sample, State, Transition
from store.db import Store

# 2026-11-03 09:00:00 Asia/Shanghai (a Tuesday)
T0 = 1793667600.0


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now



def down(device: str, at: float, cause: str = "timeout after 2 s") -> Transition:
    return Transition(device, at, State.DOWN, State.UP, cause)


def up(device: str, at: float) -> Transition:
    return Transition(device, at, State.UP, State.DOWN, "")


def camera_fleet(cameras: int = 300, alerting: dict[str, Any] | None = None, with_switch: bool = False) -> dict[str, Any]:
    """A leased line feeding ``cameras`` cameras of group lantian (95 % target), optionally via a switch."""
    devices: list[dict[str, Any]] = [
        {"id": "line-1", "name": "汇聚专线", "kind": "line", "address": "10.0.0.1", "unit": "gaj", "system": "lantian"}
    ]
    parent = "line-1"
    if with_switch:
        devices.append(
            {"id": "sw-1", "name": "汇聚交换机", "kind": "switch", "address": "10.0.0.2", "unit": "gaj", "system": "lantian", "parent": "line-1"}
        )
        parent = "sw-1"
    for index in range(cameras):
        devices.append(
            {"id": f"cam-{index:03d}", "name": f"东门-{index:03d}", "group": "lantian-cams", "address": f"10.1.{index // 250}.{index % 250 + 1}", "parent": parent}
        )
    return {
        "units": [{"id": "gaj", "name": "市公安局"}],
        "systems": [{"id": "lantian", "name": "蓝天卫士", "unit": "gaj"}],
        "defaults": {"probes": {"tcp": {"port": 554}}},
        "groups": [
            {
                "id": "lantian-cams",
                "name": "蓝天卫士摄像机",
                "unit": "gaj",
                "system": "lantian",
                "kind": "camera",
                "online_rate": {"threshold": 0.95, "warn_margin": 0.0},
            }
        ],
        "devices": devices,
        "alerting": alerting or {},
    }


WEBHOOK_CHANNEL = {"ops": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}}
ROUTE_ALL = [{"channels": ["ops"]}]


def feed(service: AlertingService, store: Store, transitions: list[Transition], now: float, samples: list[Sample] | None = None) -> int:
    """What the agent does after a round: record transitions, then let alerting see them."""
    store.add_transitions(transitions, agent="test")
    return service.on_round(samples or [], transitions, now)


def outbox(store: Store, state: str | None = None) -> list[dict[str, Any]]:
    """Outbox rows with their decoded payload body."""
    query = "SELECT id, channel, kind, thread, payload, state FROM alert_outbox"
    params: tuple[Any, ...] = ()
    if state:
        query += " WHERE state = ?"
        params = (state,)
    rows = store.db.execute(query + " ORDER BY id", params).fetchall()
    return [
        {"id": i, "channel": c, "kind": k, "thread": t, "body": Payload.from_json(p).body, "state": s}
        for i, c, k, t, p, s in rows
    ]


def ledger_faults(store: Store) -> dict[str, dict[str, Any]]:
    return {uid: body for uid, _, _, _, body in store.events(["fault"])}


def text_of(row: dict[str, Any]) -> str:
    body = row["body"]
    return json.dumps(body, ensure_ascii=False)
