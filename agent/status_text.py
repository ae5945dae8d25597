"""What ``yunwei status`` says around its table: headers and states in the reader's language, and
whether the states are current (the daemon may have stopped hours ago)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.model import State
from core.timefmt import duration
from store.db import Store
from store.ledger import LedgerStore

if TYPE_CHECKING:
    from inventory.config import Inventory

_TEXT: dict[str, tuple[str, str]] = {  # key: (zh, en)
    "unit": ("单位", "unit"),
    "group": ("分组", "group"),
    "device": ("设备编号", "device"),
    "name": ("名称", "name"),
    "kind": ("类型", "kind"),
    "state": ("状态", "state"),
    "since": ("起始", "since"),
    "rtt": ("延迟", "rtt"),
    "last error": ("最近错误", "last error"),
    "online": ("在线", "online"),
    "rate": ("在线率", "rate"),
    "threshold": ("阈值", "threshold"),
    "status": ("判定", "status"),
    "fault": ("故障单", "id"),
    "level": ("级别", "lvl"),
    "object": ("对象", "object"),
    "cause": ("原因", "cause"),
    "opened": ("开始", "opened"),
    "respond by": ("响应时限", "respond by"),
    "resolve by": ("修复时限", "resolve by"),
    "ack by": ("响应人", "ack by"),
    "late": ("超时", "LATE"),
    "open": ("待响应", "open"),
    "acknowledged": ("已响应", "acknowledged"),
    "resolved": ("已解决", "resolved"),
    "closed": ("已关闭", "closed"),
    "no match": ("(没有符合条件的设备)", "(no device matches)"),
    "totals": ("{n} 台设备: 正常 {up}, 中断 {down}, 未知 {unknown}, 维护 {maintenance}",
               "{n} devices: {up} up, {down} down, {unknown} unknown, {maintenance} in maintenance"),
    "degraded": (" (部分异常: {probes})", " (degraded: {probes})"),
    "degraded count": ("; 其中 {n} 台在线但部分功能异常", "; {n} up but degraded"),
    "rates": ("分组在线率 (当前):", "Group online rates (now):"),
    "ok": ("正常", "ok"),
    "warn": ("预警: 接近阈值", "WARN: near threshold"),
    "breach": ("不达标: 低于阈值", "BREACH: below threshold"),
    "no data": ("暂无数据", "no data yet"),
    "never ran": ("代理从未运行过 (yunwei run): 以下没有实测状态", "the agent has never run (yunwei run): no state below is measured"),
    "running": ("代理运行中, 最近一轮 {at} ({ago}前)", "agent running, last round {at} ({ago} ago)"),
    "stopped": ("代理已于 {at} 停止 ({ago}前), 以下为停止时的状态", "the agent stopped at {at} ({ago} ago); states as they were then"),
    "stale": ("⚠ 代理最近一次运行于 {at} ({ago}前), 现已停止: 以下状态已过时, 标 * 的为停止前的状态",
              "⚠ the agent last ran at {at} ({ago} ago) and is not running: the states below are stale (marked *)"),
}
STATES: dict[State, tuple[str, str]] = {
    State.UP: ("正常", "UP"),
    State.DOWN: ("中断", "DOWN"),
    State.UNKNOWN: ("未知", "?"),
    State.MAINTENANCE: ("维护", "MAINT"),
}


def text(key: str, language: str, **values: object) -> str:
    zh, en = _TEXT[key]
    chosen = zh if language == "zh" else en
    return chosen.format(**values) if values else chosen


def state_label(state: State, language: str, stale: bool = False) -> str:
    zh, en = STATES[state]
    return (zh if language == "zh" else en) + ("*" if stale else "")


def freshness(inventory: Inventory, store: Store, now: float) -> tuple[str, bool]:
    """(the line saying when the agent last ran, whether the states are stale).

    Stale: the agent's last heartbeat (every round) is older than two of its longest round
    intervals and a minute, so the daemon has stopped or hangs."""
    language = inventory.agent.language
    run = LedgerStore(store).last_run(inventory.agent.id)
    if run is None:
        return text("never ran", language), True
    last, stopped = (run.stopped, True) if run.stopped is not None else (run.last_seen, False)
    intervals = [p.interval for d in inventory.devices.values() for p in d.probes.values()]
    allowed = 2 * max(intervals, default=inventory.agent.default_interval) + 60
    zone = ZoneInfo(inventory.agent.timezone)
    at = datetime.fromtimestamp(last, zone).strftime("%Y-%m-%d %H:%M:%S")
    ago = duration(max(0.0, now - last), language)
    if now - last > allowed:
        return text("stale", language, at=at, ago=ago), True
    return text("stopped" if stopped else "running", language, at=at, ago=ago), False
