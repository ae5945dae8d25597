"""The read pages: 总览, 大屏, 故障, 设备, 拓扑, 维护, 审计. Figures come from web.data only."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from agent.fleet import GroupRate
from agent.status import DeviceRow
from core.model import State
from store.faults import Fault
from web import audit, svg
from web.context import Console, console
from web.data import Snapshot

CHART_RANGES = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
# the states the device list filters by: the fleet state's, and degraded (up, another probe failing)
STATES = (*(str(state) for state in State), "degraded")


@dataclass
class RateView:
    rate: GroupRate
    unit: str
    normal: float | None
    important: float | None
    important_name: str

    @property
    def css(self) -> str:
        if self.rate.threshold is None:
            return "none"
        return "nodata" if self.rate.rate is None else self.rate.level


def rate_views(app: Console, snap: Snapshot) -> list[tuple[str, list[RateView]]]:
    """The group rates of the snapshot under their units (presentation only)."""
    inventory = app.inventory
    by_unit: dict[str, list[RateView]] = defaultdict(list)
    for rate in snap.rates:
        group = inventory.groups[rate.group]
        target = group.online_rate
        important = max(target.important_periods, key=lambda p: p.threshold, default=None) if target else None
        unit = inventory.units.get(group.unit or "")
        unit_name = (unit.name or unit.id) if unit else "-"
        by_unit[unit_name].append(RateView(rate, unit_name, target.threshold if target else None,
                                           important.threshold if important else None, important.name if important else ""))
    return sorted(by_unit.items())


def fault_view(app: Console, fault: Fault) -> dict[str, Any]:
    composer = app.data.composer
    return {"fault": fault, "subject": composer.subject(fault), "where": composer.where(fault),
            "level_name": composer.level_name(fault)}


async def overview(request: web.Request) -> web.StreamResponse:
    return await _overview(request, "overview.html")


async def bigscreen(request: web.Request) -> web.StreamResponse:
    return await _overview(request, "bigscreen.html")


async def _overview(request: web.Request, template: str) -> web.StreamResponse:
    app = console(request)
    return await app.live_part(request, lambda: _render_overview(request, app, template))


async def _render_overview(request: web.Request, app: Console, template: str) -> web.Response:
    snap = await app.run(app.data.snapshot)
    active = await app.run(app.data.active_faults)
    by_level = {level: [f for f in active if f.level == level and f.waived is None] for level in (1, 2, 3, 4)}
    scores = await app.run(app.data.month_scores) if app.inventory.config.contracts else []
    devices = app.inventory.devices
    down = sorted((since, d) for d, (state, since) in snap.states.items() if state == State.DOWN and d in devices)
    return app.render(request, template, units=rate_views(app, snap), snap=snap, faults=[fault_view(app, f) for f in active],
                      by_level=by_level, scores=scores, down=[(devices[d], since) for since, d in down])


async def faults(request: web.Request) -> web.StreamResponse:
    app = console(request)
    return await app.live_part(request, lambda: _render_faults(request, app))


async def _render_faults(request: web.Request, app: Console) -> web.Response:
    active = await app.run(app.data.active_faults)
    recent = await app.run(app.data.recent_faults)
    return app.render(request, "faults.html", faults=[fault_view(app, f) for f in active],
                      recent=[fault_view(app, f) for f in recent], done=request.query.get("done", ""),
                      error=request.query.get("error", ""), inventory=app.inventory)


async def fault(request: web.Request) -> web.StreamResponse:
    app = console(request)
    found = await app.run(app.data.fault, request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text="no such fault")
    history = await app.run(app.data.fault_history, found.id)
    messages = await app.run(app.data.fault_messages, found.id)
    return app.render(request, "fault.html", f=fault_view(app, found), history=history, messages=messages,
                      done=request.query.get("done", ""), error=request.query.get("error", ""))


def _matches(row: DeviceRow, device: Any, state: str, query: dict[str, str], snap: Snapshot) -> bool:
    for key, value in (("unit", device.unit), ("system", device.system), ("group", device.group), ("kind", device.kind)):
        if query.get(key) and query[key] != (value or ""):
            return False
    if state == "degraded":
        if not row.degraded:
            return False
    elif state and snap.shown_state(row.device) != state:
        return False
    text = query.get("q", "").strip().lower()
    return not text or text in row.device.lower() or text in row.name.lower() or text in (device.address or "").lower()


async def devices(request: web.Request) -> web.StreamResponse:
    app = console(request)
    snap = await app.run(app.data.snapshot)
    rows = await app.run(app.data.rows)
    inventory = app.inventory
    query = {k: request.query.get(k, "") for k in ("unit", "system", "group", "kind", "state", "q")}
    matched = [r for r in rows if _matches(r, inventory.devices[r.device], query["state"], query, snap)]
    size = app.settings.page_size
    pages = max(1, math.ceil(len(matched) / size))
    try:
        page = min(max(1, int(request.query.get("page", "1"))), pages)
    except ValueError:
        page = 1
    shown = [(r, inventory.devices[r.device], snap.shown_state(r.device)) for r in matched[(page - 1) * size: page * size]]
    kinds = sorted({d.kind for d in inventory.devices.values()})
    keep = "&".join(f"{k}={v}" for k, v in query.items() if v)
    return app.render(request, "devices.html", rows=shown, total=len(matched), page=page, pages=pages, q=query,
                      keep=keep, kinds=kinds, states=STATES, inventory=inventory)


def parent_chain(app: Console, device_id: str) -> list[str]:
    chain, seen = [], {device_id}
    current = app.inventory.devices[device_id].parent
    while current and current in app.inventory.devices and current not in seen:
        chain.append(current)
        seen.add(current)
        current = app.inventory.devices[current].parent
    return list(reversed(chain))


async def device(request: web.Request) -> web.StreamResponse:
    app = console(request)
    device_id = request.match_info["id"]
    found = app.inventory.devices.get(device_id)
    if found is None:
        raise web.HTTPNotFound(text="no such device")
    return await app.live_part(request, lambda: _render_device(request, app, device_id))


async def _render_device(request: web.Request, app: Console, device_id: str) -> web.Response:
    found = app.inventory.devices[device_id]
    snap = await app.run(app.data.snapshot)
    since = time.time() - 86400
    samples = await app.run(app.data.samples, device_id, since)
    month_start = datetime.fromtimestamp(time.time(), app.data.zone).replace(day=1, hour=0, minute=0, second=0,
                                                                              microsecond=0).timestamp()
    transitions = await app.run(app.data.transitions, device_id, month_start)
    latest: dict[str, Any] = {}
    for sample in samples:
        latest[sample.probe] = sample
    own_faults = await app.run(app.data.device_faults, device_id)
    chart_range = request.query.get("range", "24h") if request.query.get("range") in CHART_RANGES else "24h"
    group = app.inventory.groups.get(found.group or "")
    unit = app.inventory.units.get(found.unit or "")
    return app.render(request, "device.html", d=found, since=snap.state(device_id)[1], state=snap.shown_state(device_id),
                      window=snap.in_maintenance.get(device_id), samples=list(reversed(samples[-30:])),
                      transitions=list(reversed(transitions[-30:])), chain=[app.inventory.devices[p] for p in parent_chain(app, device_id)],
                      children=app.inventory.children(device_id), faults=[fault_view(app, f) for f in own_faults],
                      ranges=list(CHART_RANGES), chart_range=chart_range, snap=snap, charts=device_charts(found),
                      group_name=(group.name or group.id) if group else "-", unit_name=(unit.name or unit.id) if unit else "-",
                      latest=latest, timeline=svg.timeline(_segments(transitions, month_start, snap.state(device_id)[0]),
                                                           month_start, time.time(), app.data.zone, "timeline"))


def _segments(transitions: list[Any], start: float, now_state: State) -> list[tuple[float, float, str]]:
    """(from, to, state) spans of the month from its transitions (presentation of the ledger, no figure)."""
    spans, state, since = [], str(transitions[0].previous) if transitions else str(now_state), start
    for transition in transitions:
        spans.append((since, transition.at, state))
        state, since = str(transition.state), transition.at
    spans.append((since, time.time(), state))
    return spans


async def rtt_chart(request: web.Request) -> web.StreamResponse:
    app = console(request)
    device_id = request.match_info["id"]
    if device_id not in app.inventory.devices:
        raise web.HTTPNotFound(text="no such device")
    seconds = CHART_RANGES.get(request.query.get("range", "24h"), 86400)
    end = time.time()
    values, failures = await app.run(app.data.series, device_id, "rtt_seconds", end - seconds, end)
    body = svg.series_chart(svg.downsample([(t, v * 1000) for t, v in values]), end - seconds, end, "ms", app.data.zone,
                            title="RTT", failures=failures)
    return web.Response(text=body, content_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# Charts of what the contract measures besides RTT: name → (the collector whose samples fill it,
# unit, factor to that unit, the series, a second series, the metric that is the contracted limit)
METRIC_CHARTS: dict[str, tuple[str, str, float, str, str | None, str | None]] = {
    "traffic": ("line", "Mbit/s", 1e-6, "down_bps", "up_bps", "bandwidth_down_bps"),
    "ups-runtime": ("ups", "min", 1 / 60, "runtime_seconds", None, "required_runtime_seconds"),
    "ups-charge": ("ups", "%", 1.0, "charge_percent", None, None),
}


def device_charts(device: Any) -> list[str]:
    """The metric charts a device's probes can fill (a line's traffic, a UPS's runtime and charge)."""
    collectors = {probe.collector for probe in device.probes.values()}
    return [name for name, (collector, *_rest) in METRIC_CHARTS.items() if collector in collectors]


async def metric_chart(request: web.Request) -> web.StreamResponse:
    """A line's traffic against its contracted bandwidth, a UPS's runtime against the required hours."""
    app = console(request)
    device_id, name = request.match_info["id"], request.match_info["chart"]
    if device_id not in app.inventory.devices or name not in METRIC_CHARTS:
        raise web.HTTPNotFound(text="no such chart")
    _collector, unit, factor, metric, other, limit_metric = METRIC_CHARTS[name]
    seconds = CHART_RANGES.get(request.query.get("range", "24h"), 86400)
    end = time.time()
    values, failures = await app.run(app.data.series, device_id, metric, end - seconds, end)
    second = (await app.run(app.data.series, device_id, other, end - seconds, end))[0] if other else []
    limits = (await app.run(app.data.series, device_id, limit_metric, end - seconds, end))[0] if limit_metric else []
    body = svg.series_chart(svg.downsample([(t, v * factor) for t, v in values]), end - seconds, end, unit, app.data.zone,
                            title=name, limit=limits[-1][1] * factor if limits else None,
                            second=svg.downsample([(t, v * factor) for t, v in second]), failures=failures)
    return web.Response(text=body, content_type="image/svg+xml", headers={"Cache-Control": "no-store"})


async def topology(request: web.Request) -> web.StreamResponse:
    app = console(request)
    snap = await app.run(app.data.snapshot)
    active = await app.run(app.data.active_faults)
    affected_by = {d: f for f in active for d in f.affected}
    children: dict[str | None, list[str]] = defaultdict(list)
    for device_id, d in app.inventory.devices.items():
        parent = d.parent if d.parent in app.inventory.devices else None
        children[parent].append(device_id)
    limit = 3000  # a tree beyond this is unreadable in a browser; the device list filters instead

    def build(device_id: str, depth: int, budget: list[int]) -> dict[str, Any]:
        budget[0] -= 1
        kids = [build(c, depth + 1, budget) for c in sorted(children.get(device_id, [])) if budget[0] > 0]
        cause = affected_by.get(device_id)
        return {"id": device_id, "name": app.inventory.devices[device_id].label, "state": snap.shown_state(device_id), "children": kids,
                "suppressed_by": cause.id if cause is not None and cause.device != device_id else None}

    budget = [limit]
    roots = [build(r, 0, budget) for r in sorted(children[None]) if children.get(r) and budget[0] > 0]
    leaves = len([r for r in children[None] if not children.get(r)])
    return app.render(request, "topology.html", roots=roots, leaves=leaves, truncated=budget[0] <= 0)


async def maintenance(request: web.Request) -> web.StreamResponse:
    app = console(request)
    stored = await app.run(app.data.maintenance_windows)
    configured = app.inventory.config.maintenance
    return app.render(request, "maintenance.html", stored=stored, configured=configured,
                      done=request.query.get("done", ""), error=request.query.get("error", ""))


async def audit_page(request: web.Request) -> web.StreamResponse:
    app = console(request)
    entries = await app.run(audit.entries, app.audit_trail, 200)
    verdict = await app.run(audit.verify, app.audit_trail)
    return app.render(request, "audit.html", entries=list(reversed(entries)), verdict=verdict)
