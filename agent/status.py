"""The status view: devices by unit and group, up/down since when, last RTT; live group online rates."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from agent import windows
from agent.fleet_now import degraded_probes, group_rates, states_now
from agent.status_text import freshness, state_label, text
from collectors.texts import localise_error
from core.model import Sample, State
from inventory.kinds import KIND_LABELS
from store.db import Store

if TYPE_CHECKING:  # or an inventory.view.InventoryView: the same names (yunwei status reads one)
    from inventory.config import Inventory


@dataclass
class DeviceRow:
    device: str
    name: str
    kind: str
    unit: str
    group: str
    state: State
    since: float | None
    rtt_seconds: float | None
    error: str | None
    degraded: tuple[str, ...] = ()


def device_rows(
    inventory: Inventory,
    states: dict[str, tuple[State, float | None]],
    latest: list[Sample],
    probe_ok: dict[tuple[str, str], tuple[bool, float]] | None = None,
) -> list[DeviceRow]:
    """One row per device; ``states`` are shown states (``agent.fleet.states_now``)."""
    confirmed: dict[str, dict[str, bool]] = {}
    for (device_id, probe), (ok, _) in (probe_ok or {}).items():
        confirmed.setdefault(device_id, {})[probe] = ok
    by_device: dict[str, list[Sample]] = {}
    for sample in latest:
        by_device.setdefault(sample.device, []).append(sample)
    rows = []
    for device in inventory.devices.values():
        state, since = states.get(device.id, (State.UNKNOWN, None))
        samples = by_device.get(device.id, [])
        rtts = [s.metrics["rtt_seconds"] for s in samples if "rtt_seconds" in s.metrics]
        errors = [f"{s.probe}: {s.error}" for s in samples if s.error]
        rows.append(
            DeviceRow(
                device=device.id,
                name=device.label,
                kind=device.kind,
                unit=device.unit or "-",
                group=device.group or "-",
                state=state,
                since=since,
                rtt_seconds=min(rtts) if rtts else None,
                error="; ".join(errors) or None,
                degraded=degraded_probes(device, state, confirmed.get(device.id, {})),
            )
        )
    rows.sort(key=lambda r: (r.unit, r.group, r.device))
    return rows




@dataclass(frozen=True)
class StatusFilter:
    """Which device rows ``yunwei status`` lists (the totals and group rates always cover all)."""

    problems_only: bool = False  # down, degraded, unknown and maintenance only
    unit: str | None = None
    group: str | None = None

    def keeps(self, row: DeviceRow) -> bool:
        if self.problems_only and row.state == State.UP and not row.degraded:
            return False
        if self.unit is not None and row.unit != self.unit:
            return False
        return self.group is None or row.group == self.group


def render_status(
    inventory: Inventory, store: Store, now: float | None = None, only: StatusFilter | None = None
) -> str:
    """The table ``yunwei status`` and the demo print."""
    zone = ZoneInfo(inventory.agent.timezone)
    now = time.time() if now is None else now
    now_dt = datetime.fromtimestamp(now, zone)
    language = inventory.agent.language
    banner, stale = freshness(inventory, store, now)
    states = states_now(store.current_states(), windows.covering(store, inventory, now))
    rows = device_rows(inventory, states, store.latest_samples(), store.probe_states())
    headers = [text(key, language) for key in ("unit", "group", "device", "name", "kind", "state", "since", "rtt", "last error")]
    table = []
    only = only or StatusFilter()
    today = now_dt.date()
    since_texts: dict[float | None, str] = {None: "-"}  # devices that changed together share a moment
    state_texts: dict[State, str] = {}
    for row in rows:
        if not only.keeps(row):
            continue
        since = since_texts.get(row.since)
        if since is None:
            moment = datetime.fromtimestamp(row.since, zone)  # type: ignore[arg-type]
            since = moment.strftime("%H:%M:%S") if moment.date() == today else moment.strftime("%m-%d %H:%M")
            since_texts[row.since] = since
        rtt = f"{row.rtt_seconds * 1000:.1f} ms" if row.rtt_seconds is not None else "-"
        kind = KIND_LABELS.get(row.kind, row.kind) if language == "zh" else row.kind
        state = state_texts.get(row.state)
        if state is None:
            state = state_texts[row.state] = state_label(row.state, language, stale and row.state != State.UNKNOWN)
        if row.degraded:
            state += text("degraded", language, probes=", ".join(row.degraded))
        table.append([row.unit, row.group, row.device, row.name, kind, state, since, rtt, _errors(row.error, language)[:60]])
    lines = [banner, "", format_table(headers, table) if table else text("no match", language)]
    counts = {state: sum(1 for r in rows if r.state == state) for state in State}
    degraded = sum(1 for r in rows if r.degraded)
    lines.append("\n" + text("totals", language, n=len(rows), up=counts[State.UP], down=counts[State.DOWN],
                              unknown=counts[State.UNKNOWN], maintenance=counts[State.MAINTENANCE])
                 + (text("degraded count", language, n=degraded) if degraded else ""))
    rates = group_rates(inventory, states, now_dt.date())
    if rates:
        lines.append("\n" + text("rates", language))
        rate_rows = []
        for rate in rates:
            threshold = f"{rate.threshold:.0%}" if rate.threshold is not None else "-"
            flag = text(rate.level, language) if rate.rate is not None else text("no data", language)
            shown = f"{rate.rate * 100:.1f} %" if rate.rate is not None else "-"
            rate_rows.append([rate.name, rate.online_text(language), shown, threshold, flag])
        columns = [text(key, language) for key in ("group", "online", "rate", "threshold", "status")]
        lines.append(format_table(columns, rate_rows))
    return "\n".join(lines)


def _errors(errors: str | None, language: str) -> str:
    """``icmp: 丢包 100% (发送 3 个); rtsp: 连接被拒绝 (端口 554)``."""
    if not errors:
        return ""
    parts = []
    for part in errors.split("; "):
        probe, sep, error = part.partition(": ")
        parts.append(f"{probe}: {localise_error(error, language)}" if sep else localise_error(part, language))
    return "; ".join(parts)


_WIDE = re.compile("[\u1100-\uffdc]")


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    if text.isascii():
        return len(text)
    return len(text) + len(_WIDE.findall(text))


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    known: dict[str, int] = {}  # columns repeat their values (unit, group, state): measure each once
    measured = [[known[c] if c in known else known.setdefault(c, _width(c)) for c in row] for row in cells]
    widths = [max(column) for column in zip(*measured, strict=True)]

    def line(row: list[str], row_widths: list[int]) -> str:
        return "  ".join(c + " " * (w - cw) for c, cw, w in zip(row, row_widths, widths, strict=True)).rstrip()

    dashes = ["-" * w for w in widths]
    lines = [line(cells[0], measured[0]), line(dashes, widths)]
    lines.extend(line(row, row_widths) for row, row_widths in zip(cells[1:], measured[1:], strict=True))
    return "\n".join(lines)
