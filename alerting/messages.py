"""What the chat messages say: titles and markdown lines, Chinese by default, English on request
(the phrases: ``alerting.phrases``).

Pure functions of faults, notices and the inventory (plus the current time for "due in 5
minutes"); the platforms' formats are the notifiers' business.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alerting.phrases import KIND_NAMES, T
from collectors.texts import localise_error
from core.timefmt import duration, short
from store.faults import Fault

if TYPE_CHECKING:  # kept out of the import: `yunwei faults list` names faults without the config models
    from alerting.levels import LevelPolicy
    from inventory.config import Inventory


def subject(fault: Fault, inventory: Any) -> str:
    """``雪亮工程 汇聚交换机``: the system's name and the device's (or the group's) name."""
    if fault.device and fault.device in inventory.devices:
        label = inventory.devices[fault.device].label
    elif fault.device:
        label = fault.device
    elif fault.group and fault.group in inventory.groups:
        group = inventory.groups[fault.group]
        return group.name or group.id
    elif fault.system and fault.system in inventory.systems:
        return inventory.systems[fault.system].name or fault.system
    elif fault.unit and fault.unit in inventory.units:
        return inventory.units[fault.unit].name or fault.unit
    else:
        return fault.scope
    system = inventory.systems.get(fault.system or "")
    prefix = (system.name or system.id) if system else ""
    return f"{prefix} {label}" if prefix and not label.startswith(prefix) else label


@dataclass
class Text:
    """Title and lines of one message, before platform formatting."""

    title: str
    lines: list[str] = field(default_factory=list)
    severity: str = "info"


class Composer:
    """Builds message texts for one language and time zone."""

    def __init__(self, inventory: Inventory, policy: LevelPolicy, list_max: int = 30) -> None:
        self.inventory = inventory
        self.policy = policy
        self.language = inventory.agent.language
        self.zone = inventory.agent.timezone
        self.list_max = list_max

    def t(self, key: str, **values: Any) -> str:
        zh, en = T[key]
        text = zh if self.language == "zh" else en
        return text.format(**values) if values else text

    # -- names ---------------------------------------------------------------------------

    def subject(self, fault: Fault) -> str:
        """``雪亮工程 汇聚交换机``: the system's name and the device's (or the group's) name."""
        return subject(fault, self.inventory)

    def where(self, fault: Fault) -> str:
        """``汇聚交换机 (sw-agg-1) · 市公安局 / 雪亮工程``."""
        inventory = self.inventory
        parts = []
        if fault.device:
            device = inventory.devices.get(fault.device)
            parts.append(f"{device.label} ({fault.device})" if device and device.label != fault.device else fault.device)
        elif fault.group:
            group = inventory.groups.get(fault.group)
            parts.append(f"{group.name or group.id} ({fault.group})" if group else fault.group)
        owners = []
        if fault.unit:
            unit = inventory.units.get(fault.unit)
            owners.append(unit.name or unit.id if unit else fault.unit)
        if fault.system:
            system = inventory.systems.get(fault.system)
            owners.append(system.name or system.id if system else fault.system)
        if owners:
            parts.append(" / ".join(owners))
        return " · ".join(parts) or fault.scope

    def count_phrase(self, devices: list[str]) -> str:
        """``212 路摄像机`` / ``212 cameras`` (or ``台设备``/``devices`` for a mix of kinds)."""
        kinds = Counter(self.inventory.devices[d].kind if d in self.inventory.devices else "other" for d in devices)
        parts = []
        for kind, n in sorted(kinds.items(), key=lambda item: (-item[1], item[0])):
            if kind in KIND_NAMES:
                zh, one, many = KIND_NAMES[kind]
                parts.append(f"{n} {zh}" if self.language == "zh" else f"{n} {one if n == 1 else many}")
            else:
                parts.append(f"{n} {self.t('devices')}")
        if len(parts) > 3:
            return f"{len(devices)} {self.t('devices')}"
        return ("、" if self.language == "zh" else ", ").join(parts)

    def level_name(self, fault: Fault) -> str:
        return self.policy.name(fault.level, fault.unit, fault.system, self.language)

    def down_word(self, devices: list[str]) -> str:
        """中断, or 离线 for cameras and 通信中断 for UPS units (what their probes can tell)."""
        kinds = {self.inventory.devices[d].kind for d in devices if d in self.inventory.devices}
        kind = kinds.pop() if len(kinds) == 1 else ""
        return self.t({"camera": "offline", "ups": "comms_lost"}.get(kind, "down"))

    def cause(self, fault: Fault) -> str:
        """The fault's cause in the reader's language (probe errors are stored in English)."""
        return localise_error(fault.cause, self.language)

    def what(self, fault: Fault) -> str:
        """Short state of the subject for titles: a camera is 离线, a UPS that does not answer 通信中断."""
        if fault.source == "down":
            return self.down_word([fault.device] if fault.device else [])
        if fault.source == "flapping":
            return self.t("flapping")
        if fault.source == "group":
            threshold = fault.extra.get("threshold")
            if threshold is not None and fault.extra.get("rate", 1) < threshold:
                return self.t("group_rate")
            return self.t("group_mass")
        return self.cause(fault)

    def impact(self, fault: Fault) -> str:
        if not fault.affected:
            return ""
        return f"{self.count_phrase(fault.affected)}{self.t('unreachable') if self.language == 'zh' else ' ' + self.t('unreachable')}"

    def names(self, devices: list[str]) -> str:
        inventory = self.inventory
        shown = [inventory.devices[d].label if d in inventory.devices else d for d in devices[: self.list_max]]
        text = "、".join(shown) if self.language == "zh" else ", ".join(shown)
        if len(devices) > self.list_max:
            text += " " + self.t("more", n=len(devices) - self.list_max)
        return text

    def _unnamed(self, fault: Fault, text: str) -> str:
        """``text`` without the subject's name in front (a threshold's label often names the
        device again: "UPS 市电中断" for the device "UPS")."""
        device = self.inventory.devices.get(fault.device or "")
        for name in (self.subject(fault), device.label if device is not None else ""):
            if name and text.startswith(name):
                return text[len(name) :].strip()
        return text

    def headline(self, fault: Fault) -> str:
        """``电子政务外网 UPS 市电中断``: subject and state, the name said once."""
        return f"{self.subject(fault)} {self._unnamed(fault, self.what(fault))}".rstrip()

    def describe(self, fault: Fault) -> str:
        """``**UPS** 市电中断 (无应答)``: subject, state and cause, each said once."""
        what, cause = self._unnamed(fault, self.what(fault)), self._unnamed(fault, self.cause(fault))
        text = f"**{self.subject(fault)}** {what}".rstrip()
        if cause and cause not in what:
            text += f" ({cause})"
        return text

    def when(self, epoch: float, now: float) -> str:
        return short(epoch, self.zone, now)

    def tag(self, text: str) -> str:
        """``【一级故障】`` in Chinese, ``[Level 1 fault]`` in English."""
        return f"【{text}】" if self.language == "zh" else f"[{text}] "

    def bold(self, key: str, value: str) -> str:
        return f"- **{self.t(key)}**: {value}"

    def console_actions(self, fault: Fault, kind: str) -> list[tuple[str, str]]:
        """Buttons of a fault's message on the platforms that have them: 确认 (the fault page at its
        acknowledge form: one more tap after login) while it waits for an answer, and 查看."""
        base = self.inventory.config.web.public_url
        if not base:
            return []
        page = f"{base}/faults/{fault.id}"
        view = ("查看", page) if self.language == "zh" else ("View", page)
        if kind == "resolved" or fault.acknowledged is not None:
            return [view]
        return [("确认", f"{page}#ack") if self.language == "zh" else ("Acknowledge", f"{page}#ack"), view]

    def console_link(self, fault: Fault) -> list[str]:
        """The fault's page on the web console, when ``web.public_url`` says where engineers reach it."""
        base = self.inventory.config.web.public_url
        return [self.bold("console", f"{base}/faults/{fault.id}")] if base else []

    # -- one fault -----------------------------------------------------------------------

    def deadlines_line(self, fault: Fault, now: float) -> str:
        respond = duration(fault.respond_by - fault.opened, self.language)
        resolve = duration(fault.resolve_by - fault.opened, self.language)
        within = self.t("within")
        return (
            f"- **{self.t('respond_by')}**: {self.when(fault.respond_by, now)} ({respond}{within}) · "
            f"**{self.t('resolve_by')}**: {self.when(fault.resolve_by, now)} ({resolve}{within})"
        )

    def opened(self, fault: Fault, now: float, recurring_days: float, rates: list[str] | None = None) -> Text:
        from alerting.notifiers.base import SEVERITY_OF_LEVEL

        title = f"{self.tag(self.level_name(fault))}{self.headline(fault)}"
        impact = self.impact(fault)
        if impact:
            title += f", {impact}"
        lines = [self.bold("fault_id", fault.id), self.bold("object", self.where(fault))]
        lines.append(self.bold("cause", self.cause(fault)))
        if fault.affected:
            behind = fault.extra.get("behind")
            count = f"{len(fault.affected)}/{behind}" if behind and behind > len(fault.affected) else str(len(fault.affected))
            lines.append(self.bold("impact", f"{impact} ({count}): {self.names(fault.affected)}"))
        for rate in rates or []:
            lines.append(self.bold("online_rate", rate))
        lines.append(self.bold("started", self.when(fault.opened, now)))
        lines.append(self.deadlines_line(fault, now))
        if fault.recurring_of:
            lines.append(f"- ⚠ **{self.t('recurring')}**: {self.t('recurring_text', days=recurring_days, previous=fault.recurring_of)}")
        lines.extend(self.console_link(fault))
        return Text(title, lines, SEVERITY_OF_LEVEL.get(fault.level, "minor"))

    def resolved(self, fault: Fault, now: float) -> Text:
        if fault.resolved_how == "manual":
            return self.resolved_by_hand(fault, now)
        end = fault.resolved or now
        lasted = duration(end - fault.opened, self.language)
        title = f"{self.tag(self.t('recovered'))}{self.subject(fault)}, {self.t('lasted')} {lasted}"
        how_key = "auto_metric" if fault.resolved_how == "auto" and fault.source == "threshold" else fault.resolved_how
        how = self.t(how_key) if how_key in ("auto", "auto_metric", "event", "manual", "maintenance_end", "removed") else (fault.resolved_how or "")
        if fault.resolved_by:
            how += f" ({fault.resolved_by})"
        lines = [self.bold("fault_id", fault.id), self.bold("object", self.where(fault)), self.bold("how", how)]
        lines.append(self.bold("started", f"{self.when(fault.opened, now)} → {self.when(end, now)}"))
        if fault.acknowledged is not None:
            took = duration(fault.acknowledged - fault.opened, self.language)
            verdict = self.t("in_time") if fault.acknowledged <= fault.respond_by else self.t("late")
            lines.append(self.bold("response", f"{fault.acknowledged_by or ''} {self.t('took')} {took} ({verdict})".strip()))
        else:
            lines.append(self.bold("response", self.t("not_acknowledged")))
        verdict = self.t("in_time") if end <= fault.resolve_by else self.t("late")
        lines.append(self.bold("resolution", f"{self.t('took')} {lasted} ({verdict})"))
        return Text(title, lines, "ok")

    def resolved_by_hand(self, fault: Fault, now: float) -> Text:
        """An engineer closed the fault: say who and why; never claim the device recovered."""
        end = fault.resolved or now
        who = fault.resolved_by or ""
        title = f"{self.tag(self.t('closed_by_hand'))}{self.subject(fault)} — {who}".rstrip(" —")
        lines = [self.bold("fault_id", fault.id), self.bold("object", self.where(fault))]
        lines.append(self.bold("how", f"{self.t('manual')} ({who})" if who else self.t("manual")))
        if fault.note:
            lines.append(self.bold("note", fault.note.splitlines()[-1]))
        if fault.extra.get("resolved_while_down"):
            lines.append(self.bold("device_state", self.t("still_down")))
        if fault.acknowledged is not None:
            took = duration(fault.acknowledged - fault.opened, self.language)
            verdict = self.t("in_time") if fault.acknowledged <= fault.respond_by else self.t("late")
            lines.append(self.bold("response", f"{fault.acknowledged_by or ''} {self.t('took')} {took} ({verdict})".strip()))
        lasted = duration(end - fault.opened, self.language)
        verdict = self.t("in_time") if end <= fault.resolve_by else self.t("late")
        lines.append(self.bold("handling", f"{self.t('took')} {lasted} ({verdict})"))
        return Text(title, lines, "info")

    def acknowledged(self, fault: Fault, now: float) -> Text:
        who = fault.acknowledged_by or ""
        title = f"{self.tag(self.t('acknowledged'))}{self.subject(fault)} — {who}".rstrip(" —")
        at = fault.acknowledged or now
        took = duration(at - fault.opened, self.language)
        limit = duration(fault.respond_by - fault.opened, self.language)
        verdict = self.t("in_time") if at <= fault.respond_by else self.t("late")
        lines = [
            self.bold("fault_id", fault.id),
            self.bold("response", f"{took} ({self.t('limit')} {limit}, {verdict})"),
            f"- **{self.t('resolve_by')}**: {self.when(fault.resolve_by, now)}",
        ]
        if fault.extra.get("ack_note"):
            lines.append(self.bold("note", str(fault.extra["ack_note"])))
        return Text(title, lines, "info")

    def reminder(self, fault: Fault, body: dict[str, Any], now: float) -> Text:
        window = self.t(f"{body.get('window', 'resolve')}_window")
        deadline = float(body.get("deadline", fault.resolve_by))
        left = duration(max(0.0, deadline - now), self.language)
        title = f"{self.tag(self.t('reminder'))}{self.subject(fault)}: {self.t('left', window=window, left=left)}"
        lines = [
            self.bold("fault_id", f"{fault.id} ({self.level_name(fault)})"),
            f"- **{window}**: {self.when(deadline, now)}",
            self.bold("cause", self.cause(fault)),
            *self.console_link(fault),
        ]
        return Text(title, lines, "warning")

    def overdue(self, fault: Fault, body: dict[str, Any], now: float) -> Text:
        window = self.t(f"{body.get('window', 'resolve')}_window")
        deadline = float(body.get("deadline", fault.resolve_by))
        title = f"{self.tag(self.t('overdue'))}{self.subject(fault)}: {self.t('past', window=window)}"
        lines = [
            self.bold("fault_id", f"{fault.id} ({self.level_name(fault)})"),
            f"- **{window}**: {self.when(deadline, now)} (+{duration(now - deadline, self.language)})",
            self.bold("cause", self.cause(fault)),
            *self.console_link(fault),
        ]
        return Text(title, lines, "critical")

    def escalated(self, fault: Fault, now: float) -> Text:
        from alerting.notifiers.base import SEVERITY_OF_LEVEL

        title = f"{self.tag(self.t('escalated'))}{self.subject(fault)} {self.t('escalated_to', level=self.level_name(fault))}"
        lines = [self.bold("fault_id", fault.id)]
        if fault.affected:
            lines.append(self.bold("impact", f"{self.impact(fault)}: {self.names(fault.affected)}"))
        lines.append(self.deadlines_line(fault, now))
        lines.extend(self.console_link(fault))
        return Text(title, lines, SEVERITY_OF_LEVEL.get(fault.level, "minor"))

    # -- several faults in one message (storms) -------------------------------------------

    def place(self, bucket: str, faults: list[Fault]) -> str:
        """The name of a storm's group (or system/unit); for a storm over many: what they share."""
        inventory = self.inventory
        for known in (inventory.groups, inventory.systems, inventory.units):
            if bucket in known:
                return known[bucket].name or bucket
        if bucket:
            return bucket
        for attribute, known in (("system", inventory.systems), ("unit", inventory.units)):
            values = {getattr(f, attribute) for f in faults}
            if len(values) == 1 and None not in values:
                value = values.pop()
                return known[value].name or value if value in known else value
        return self.t("many_places")

    def listing(self, kind: str, faults: list[tuple[Fault, dict[str, Any]]], group: str, now: float) -> Text:
        """One message for many faults of one group and kind."""
        from alerting.notifiers.base import SEVERITY_OF_LEVEL

        n = len(faults)
        shown = faults[: self.list_max]
        group_name = self.place(group, [f for f, _ in faults])
        lines = []
        if kind == "open":
            worst = min(f.level for f, _ in faults)
            level = self.policy.name(worst, faults[0][0].unit, faults[0][0].system, self.language)
            if all(f.source == "down" for f, _ in faults):
                devices = [f.device for f, _ in faults if f.device]
                word = self.down_word(devices)
                title = f"{self.tag(level)}{group_name}: {self.count_phrase(devices)}{word if self.language == 'zh' else ' ' + word}"
            else:
                title = f"{self.tag(level)}" + self.t("storm_open", group=group_name, n=n)
            # worst level first; each line its own level and deadlines (the title is the worst's)
            for fault, _ in sorted(shown, key=lambda pair: (pair[0].level, pair[0].respond_by)):
                extra = f", {self.impact(fault)}" if fault.affected else ""
                recurring = f" ⚠{self.t('recurring')}" if fault.recurring_of else ""
                level_name = self.policy.name(fault.level, fault.unit, fault.system, self.language)
                lines.append(
                    f"- {fault.id} {self.tag(level_name).strip()} {self.describe(fault)}{extra}{recurring} · "
                    f"{self.when(fault.opened, now)} · {self.t('respond_by')} {self.when(fault.respond_by, now)} · "
                    f"{self.t('resolve_by')} {self.when(fault.resolve_by, now)}"
                )
            severity = SEVERITY_OF_LEVEL.get(worst, "minor")
        elif kind == "resolved":
            title = f"{self.tag(self.t('recovered'))}" + self.t("storm_resolved", group=group_name, n=n)
            for fault, _ in shown:
                lasted = duration((fault.resolved or now) - fault.opened, self.language)
                lines.append(f"- {fault.id} **{self.subject(fault)}** {self.t('lasted')} {lasted}")
            severity = "ok"
        else:  # reminder, overdue
            key = "storm_overdue" if kind == "overdue" else "storm_reminder"
            title = f"{self.tag(self.t('overdue' if kind == 'overdue' else 'reminder'))}" + self.t(key, n=n)
            for fault, body in shown:
                window = self.t(f"{body.get('window', 'resolve')}_window")
                deadline = float(body.get("deadline", fault.resolve_by))
                lines.append(f"- {fault.id} **{self.subject(fault)}** {window} {self.when(deadline, now)}")
            severity = "critical" if kind == "overdue" else "warning"
        if n > len(shown):
            lines.append(self.t("more", n=n - len(shown)))
        return Text(title, lines, severity)
