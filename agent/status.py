"""The status view: devices by unit and group, up/down since when, last RTT; live group online rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.fleet import degraded_probes, group_rates, states_now
from core.model import Sample, State
from inventory.config import Inventory
from inventory.maintenance import MaintenanceCalendar
from store.db import Store


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


STATE_LABEL = {State.UP: "UP", State.DOWN: "DOWN", State.UNKNOWN: "?", State.MAINTENANCE: "MAINT"}


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
    now_dt = datetime.fromtimestamp(now, zone) if now else datetime.now(zone)
    calendar = MaintenanceCalendar(inventory.config.maintenance, inventory)
    states = states_now(store.current_states(), calendar.covering(now_dt.timestamp()))
    rows = device_rows(inventory, states, store.latest_samples(), store.probe_states())
    headers = ["unit", "group", "device", "name", "kind", "state", "since", "rtt", "last error"]
    table = []
    only = only or StatusFilter()
    for row in rows:
        if not only.keeps(row):
            continue
        since = "-"
        if row.since is not None:
            moment = datetime.fromtimestamp(row.since, zone)
            since = moment.strftime("%H:%M:%S") if moment.date() == now_dt.date() else moment.strftime("%m-%d %H:%M")
        rtt = f"{row.rtt_seconds * 1000:.1f} ms" if row.rtt_seconds is not None else "-"
        state = STATE_LABEL[row.state] + (f" (degraded: {', '.join(row.degraded)})" if row.degraded else "")
        table.append([row.unit, row.group, row.device, row.name, row.kind, state, since, rtt, (row.error or "")[:60]])
    lines = [format_table(headers, table) if table else "(no device matches)"]
    counts = {state: sum(1 for r in rows if r.state == state) for state in State}
    lines.append(
        f"\n{len(rows)} devices: {counts[State.UP]} up, {counts[State.DOWN]} down, "
        f"{counts[State.UNKNOWN]} unknown, {counts[State.MAINTENANCE]} in maintenance"
        + (f"; {sum(1 for r in rows if r.degraded)} up but degraded" if any(r.degraded for r in rows) else "")
    )
    rates = group_rates(inventory, states, now_dt.date())
    if rates:
        lines.append("\nGroup online rates (now):")
        rate_rows = []
        for rate in rates:
            threshold = f"{rate.threshold:.0%}" if rate.threshold is not None else "-"
            flag = {"ok": "ok", "warn": "WARN: near threshold", "breach": "BREACH: below threshold"}[rate.level]
            if rate.rate is None:
                flag = "no data yet"
            shown = f"{rate.rate * 100:.1f} %" if rate.rate is not None else "-"
            rate_rows.append([rate.name, rate.online_text(), shown, threshold, flag])
        lines.append(format_table(["group", "online", "rate", "threshold", "status"], rate_rows))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    if text.isascii():
        return len(text)
    return sum(2 if "\u1100" <= ch <= "\uffdc" else 1 for ch in text)


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [_width(h) for h in headers]
    for row in rows:
        widths = [max(w, _width(str(cell))) for w, cell in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])
