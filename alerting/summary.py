"""The daily summary and meeting readiness posts."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.fleet import group_rates
from alerting.messages import Composer, Text
from core.model import State
from store.faults import Fault


def summary_due(at: str | None, now: float, zone: str, last_day: str | None) -> str | None:
    """The local date (``YYYY-MM-DD``) whose summary is due at ``now``, or None."""
    if not at:
        return None
    local = datetime.fromtimestamp(now, ZoneInfo(zone))
    hour, minute = (int(p) for p in at.split(":"))
    if local.time() < time(hour, minute):
        return None
    day = local.date().isoformat()
    return None if last_day == day else day


def daily_summary(
    composer: Composer, faults: list[Fault], states: dict[str, tuple[State, float]], now: float
) -> Text:
    """Open faults by level, deadlines falling due today, group online rates."""
    zone = ZoneInfo(composer.zone)
    local = datetime.fromtimestamp(now, zone)
    day_end = datetime.combine(local.date() + timedelta(days=1), time(0), zone).timestamp()
    zh = composer.language == "zh"
    date_text = f"{local.month}月{local.day}日" if zh else local.strftime("%Y-%m-%d")
    title = f"{composer.tag(composer.t('summary'))}{date_text}"
    live = [f for f in faults if f.active and f.waived is None]
    lines = []
    by_level = {level: sum(1 for f in live if f.level == level) for level in (1, 2, 3, 4)}
    counts = " · ".join(f"{composer.policy.name(level, None, None, composer.language)} {n}" for level, n in by_level.items() if n)
    lines.append(f"- **{composer.t('open_faults')}**: {len(live)}" + (f" ({counts})" if counts else ""))
    for fault in sorted(live, key=lambda f: (f.level, f.opened))[: composer.list_max]:
        lines.append(f"  - {fault.id} {composer.subject(fault)} · {composer.cause(fault)} · {composer.when(fault.opened, now)}")
    due = []
    for fault in live:
        if fault.acknowledged is None and now <= fault.respond_by < day_end:
            due.append((fault.respond_by, fault, "respond_by"))
        if fault.resolve_by < day_end:
            due.append((fault.resolve_by, fault, "resolve_by"))
    lines.append(f"- **{composer.t('due_today')}**: {len(due) if due else composer.t('none')}")
    for deadline, fault, which in sorted(due, key=lambda item: item[0])[: composer.list_max]:
        late = f" ({composer.t('overdue')})" if deadline < now else ""
        lines.append(f"  - {fault.id} {composer.subject(fault)} · {composer.t(which)} {composer.when(deadline, now)}{late}")
    rates = group_rates(composer.inventory, states, local.date())
    if rates:
        lines.append(f"- **{composer.t('group_rates')}**:")
        for rate in rates:
            value = f"{rate.rate:.1%}" if rate.rate is not None else composer.t("no_data")
            threshold = f" / {rate.threshold:.0%}" if rate.threshold is not None else ""
            flag = {"ok": "", "warn": f" ⚠{composer.t('warn')}", "breach": f" ❗{composer.t('group_rate')}"}[rate.level]
            lines.append(f"  - {rate.name}: {value} ({rate.online_text(composer.language)}){threshold}{flag}")
    return Text(title, lines, "info")


def meeting_text(composer: Composer, body: dict[str, Any]) -> Text:
    """A meeting readiness record (ledger kind ``meeting_check``) as a message.

    The meetings component writes ``meeting``, ``meeting_at``, ``ready``, ``ready_count``,
    ``venue_count`` and ``venues`` (venue, name, ready, why, rtt_ms, loss_percent); other shapes
    (``result``, ``problems``) are shown as well as they can be.
    """
    zh = composer.language == "zh"
    name = str(body.get("meeting") or body.get("name") or body.get("title") or "")
    venues = body.get("venues") if isinstance(body.get("venues"), list) else []
    if isinstance(body.get("ready"), bool):
        good = bool(body["ready"])
        total = body.get("venue_count", len(venues))
        ready = body.get("ready_count", sum(1 for v in venues if isinstance(v, dict) and v.get("ready")))
        if good:
            verdict = f"全部就绪 ({ready}/{total})" if zh else f"all ready ({ready}/{total})"
        else:
            verdict = f"{total - ready}/{total} 个会场未就绪" if zh else f"{total - ready}/{total} venues not ready"
    else:
        result = str(body.get("result") or body.get("status") or "")
        good = result.lower() in ("ok", "ready", "pass", "passed", "success", "就绪", "正常")
        verdict = composer.t("ok") if good else (result or composer.t("failed"))
    title = f"{composer.tag(composer.t('meeting'))}{name}: {verdict}"
    lines = []
    when = body.get("meeting_at") or body.get("at")
    if when:
        lines.append(f"- **{'会议时间' if zh else 'Meeting at'}**: {str(when).replace('T', ' ')[:16]}")
    for key in ("summary", "detail", "message"):
        if body.get(key):
            lines.append(f"- {body[key]}")
    items = venues or body.get("problems") or body.get("results") or []
    if isinstance(items, list):
        failing = [i for i in items if not (isinstance(i, dict) and (i.get("ready") or i.get("ok")))]
        shown = failing if venues else items
        for item in shown[: composer.list_max]:
            if isinstance(item, dict):
                label = item.get("name") or item.get("venue") or item.get("device") or "?"
                venue = item.get("venue")
                if venue and venue != label:
                    label = f"{label} ({venue})"
                why = item.get("why") or item.get("error") or item.get("problem") or item.get("problems") or ""
                if isinstance(why, list):
                    why = "; ".join(map(str, why))
                state = ("未就绪" if zh else "not ready") if venues else (item.get("result") or item.get("status") or "")
                lines.append(f"- {label}: {state} {why}".rstrip())
            else:
                lines.append(f"- {item}")
        if len(shown) > composer.list_max:
            lines.append(composer.t("more", n=len(shown) - composer.list_max))
        if venues and len(venues) > len(failing):
            rest = len(venues) - len(failing)
            lines.append(f"- {'其余 ' if failing else ''}{rest} 个会场就绪" if zh else f"- {rest} venue(s) ready")
    if body.get("evidence"):
        lines.append(f"- evidence: {body['evidence']}")
    return Text(title, lines or ["-"], "ok" if good else "warning")
