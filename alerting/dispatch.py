"""From queued notices to rendered messages in the outbox.

Storms: notices of faults less severe than ``storm.immediate_levels`` are grouped by (kind,
group): the first goes out at once, the next ones wait until ``storm.window_seconds`` after
it and then go out together as one message listing the devices. Level 1–2 faults, acks,
escalations, warnings, meeting checks and summaries are never held.

Routing decides the channels (and whom to @) per notice; each channel's notifier renders the
message (pure) and the rendered payload is written to the outbox in the same transaction that
marks the notices done, so a notice becomes exactly one outbox row per channel even if the
agent dies mid-way.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from agent.fleet import GroupRate, group_rates
from alerting.levels import LevelPolicy
from alerting.messages import Composer, Text
from alerting.notifiers import make_notifier
from alerting.notifiers.base import Message, Notifier
from alerting.routing import Mentions, Target, route
from alerting.startup import startup_text
from alerting.summary import meeting_text
from core.model import State
from inventory.config import Inventory
from store.faults import Fault, FaultStore, QueuedNotice
from store.outbox import NewMessage, OutboxStore

log = logging.getLogger("yunwei.alerting")

FAULT_KINDS = ("open", "resolved", "ack", "escalated", "reminder", "overdue")
NEVER_HELD = ("ack", "escalated", "warn", "meeting", "summary", "startup")
MERGEABLE = ("open", "resolved", "reminder", "overdue")  # what one listing message can carry


class Dispatcher:
    """Turns pending notices into outbox rows."""

    def __init__(
        self,
        faults: FaultStore,
        inventory: Inventory,
        states: Callable[[], dict[str, tuple[State, float]]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.faults = faults
        self.outbox = OutboxStore(faults.store)
        self.clock = clock
        self.states = states or faults.store.current_states
        self.reload(inventory)

    def reload(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.config = inventory.config.alerting
        self.policy = LevelPolicy(self.config, inventory)
        self.composer = Composer(inventory, self.policy, self.config.storm.list_max)
        self.off: dict[str, str] = {}  # channel → why it cannot send (an empty credential): nothing is queued for it
        self.notifiers: dict[str, Notifier] = {}
        for name, options in self.config.channels.items():
            reason = options.missing()
            if reason is None:
                self.notifiers[name] = make_notifier(name, options)
            else:
                self.off[name] = reason
                log.warning("alerting channel %s is off: %s (set its ${env:...} variable, then reload)", name, reason)

    # -- the queue ------------------------------------------------------------------------

    def flush(self, now: float | None = None) -> int:
        """Render what is due into the outbox; returns the number of outbox rows written."""
        now = self.clock() if now is None else now
        notices = self.faults.pending_notices()
        if not notices:
            return 0
        faults: dict[str, Fault | None] = {}
        for notice in notices:
            if notice.fault and notice.fault not in faults:
                faults[notice.fault] = self.faults.get(notice.fault)
        open_pending = {n.fault for n in notices if n.kind == "open"}
        cancel: list[int] = []
        batches: list[list[QueuedNotice]] = []
        immediate: dict[tuple[str, str], list[QueuedNotice]] = defaultdict(list)
        held: dict[tuple[str, str], list[QueuedNotice]] = defaultdict(list)
        storm = self.config.storm
        for notice in notices:
            fault = faults.get(notice.fault) if notice.fault else None
            if notice.kind in FAULT_KINDS and (fault is None or fault.waived is not None):
                cancel.append(notice.id)
            elif notice.kind == "escalated" and notice.fault in open_pending:
                cancel.append(notice.id)  # the open message shows the new level
            elif notice.kind in ("reminder", "overdue") and fault is not None and not _still_due(fault, notice.body):
                cancel.append(notice.id)
            elif notice.kind in NEVER_HELD or storm.window_seconds <= 0:
                batches.append([notice])
            elif fault is not None and fault.level <= storm.immediate_levels:
                immediate[(notice.kind, notice.grp)].append(notice)
            else:
                held[(notice.kind, notice.grp)].append(notice)
        released: list[tuple[str, list[QueuedNotice], list[QueuedNotice]]] = []
        waiting: set[str | None] = set()  # faults whose opening message is held
        for key in sorted(immediate.keys() | held.keys()):
            at_once, later = immediate.get(key, []), held.get(key, [])
            mark = f"storm:{key[0]}:{key[1]}"
            last = self.faults.kv_get(mark) if later and not at_once else None
            if at_once or last is None or now - float(last) >= storm.window_seconds:
                released.append((mark, at_once, later))
            elif key[0] == "open":
                waiting.update(n.fault for n in later)
        storm_marks: dict[str, float] = {}
        for mark, at_once, later in released:
            # a fault's recovery or reminder never overtakes its own opening message
            later = [n for n in later if n.kind == "open" or n.fault not in waiting]
            at_once = [n for n in at_once if n.kind == "open" or n.fault not in waiting]
            if later:
                storm_marks[mark] = now
            if at_once or later:  # notices of one kind and group due now: one message, whatever their level
                batches.append(sorted(at_once + later, key=lambda n: n.id))
        batches.sort(key=lambda b: b[0].id)
        rows: list[tuple[int, NewMessage]] = []
        done: list[tuple[str, int]] = [("cancelled", i) for i in cancel]
        rates: list[GroupRate] | None = None
        per_channel: dict[str, list[tuple[list[QueuedNotice], Mentions, str]]] = defaultdict(list)
        not_sent: dict[str, int] = defaultdict(int)
        for batch in batches:
            if batch[0].kind in ("open", "startup") and rates is None:
                rates = group_rates(self.inventory, self.states())  # once per flush: O(groups × devices)
            routed = self._route(batch, faults)
            for channel, (chosen, mentions) in routed.items():
                if channel in self.notifiers:
                    per_channel[channel].append((chosen, mentions, batch[0].grp))
                elif channel in self.off:
                    not_sent[channel] += 1
            done.extend(("sent" if routed else "unrouted", n.id) for n in batch)
        for channel, count in not_sent.items():
            log.warning("%d chat message(s) not sent to %s: the channel is off (%s)", count, channel, self.off[channel])
        for channel, items in per_channel.items():
            notifier = self.notifiers[channel]
            if storm.window_seconds > 0:
                items = self._within_budget(channel, notifier, items, now)
            for chosen, mentions, grp in items:
                message = self._message(chosen, faults, mentions, now, rates or [], grp)
                payload = notifier.render(message)
                rows.append((chosen[0].id, NewMessage(channel, message.kind, message.thread, message.key, now, payload.to_json(), now)))
        rows.sort(key=lambda row: row[0])  # outbox ids follow the notices' order
        self.outbox.queue([message for _, message in rows], done, storm_marks)
        if rows:
            log.info("%d chat message(s) queued from %d notice(s)", len(rows), sum(len(b) for b in batches))
        return len(rows)

    def _within_budget(
        self, channel: str, notifier: Notifier, items: list[tuple[list[QueuedNotice], Mentions, str]], now: float
    ) -> list[tuple[list[QueuedNotice], Mentions, str]]:
        """Merge a storm spread over many groups so the channel never queues more than a minute's worth.

        The budget is what the channel may still send in the coming minute: its rate limit less
        the attempts of the last 60 s and the messages already waiting. Beyond it, the fault
        messages of one kind go out as one message listing them all (acks, warnings, meeting
        checks and summaries are never merged)."""
        if len(items) <= 1:
            return items
        free = max(0, notifier.rate_per_minute - self.outbox.spent(channel, now))
        if len(items) <= free:
            return items
        mergeable = [item for item in items if item[0][0].kind in MERGEABLE]
        kinds = list(dict.fromkeys(item[0][0].kind for item in mergeable))
        keep = max(0, free - (len(items) - len(mergeable)) - len(kinds))
        kept = set(map(id, mergeable[:keep]))
        merged: dict[str, tuple[list[QueuedNotice], Mentions, str]] = {}
        result: list[tuple[list[QueuedNotice], Mentions, str]] = []
        for item in items:
            chosen, mentions, grp = item
            kind = chosen[0].kind
            if kind not in MERGEABLE or id(item) in kept:
                result.append(item)
                continue
            if kind not in merged:
                merged[kind] = ([], Mentions(), "")
                result.append(merged[kind])
            merged[kind][0].extend(chosen)
            merged[kind][1].merge(mentions)
        log.warning("%s: %d messages in one go exceed what the channel may send in a minute; merged into %d", channel, len(items), len(result))
        return result

    # -- routing and composing -----------------------------------------------------------

    def _target(self, notice: QueuedNotice, fault: Fault | None) -> Target:
        target = Target(event=notice.kind, level=fault.level if fault else notice.level)
        if fault is not None:
            target.unit, target.system, target.group = fault.unit, fault.system, fault.group
            if fault.device and fault.device in self.inventory.devices:
                target.kind = self.inventory.devices[fault.device].kind
            elif fault.group and fault.group in self.inventory.groups:
                target.kind = self.inventory.groups[fault.group].kind
        elif notice.grp and notice.grp in self.inventory.groups:
            group = self.inventory.groups[notice.grp]
            target.group, target.unit, target.system, target.kind = group.id, group.unit, group.system, group.kind
        else:
            target.unit = notice.body.get("unit")
            target.system = notice.body.get("system")
        return target

    def _route(
        self, batch: list[QueuedNotice], faults: dict[str, Fault | None]
    ) -> dict[str, tuple[list[QueuedNotice], Mentions]]:
        result: dict[str, tuple[list[QueuedNotice], Mentions]] = {}
        if batch[0].kind == "startup":
            return self._route_startup(batch[0])
        for notice in batch:
            fault = faults.get(notice.fault) if notice.fault else None
            if notice.kind == "summary" and self.config.daily_summary.channels:
                channels = {name: Mentions() for name in self.config.daily_summary.channels}
            else:
                channels = route(self.config, self._target(notice, fault))
            for channel, mentions in channels.items():
                chosen, merged = result.setdefault(channel, ([], Mentions()))
                chosen.append(notice)
                merged.merge(mentions)
        return result

    def _route_startup(self, notice: QueuedNotice) -> dict[str, tuple[list[QueuedNotice], Mentions]]:
        """The startup message goes where its faults' opening messages would have gone (each
        channel hears of its own faults only), and where routes take every event."""
        listed: dict[str, tuple[list[str], Mentions]] = {
            channel: ([], mentions) for channel, mentions in route(self.config, Target(event="startup")).items()
        }
        for fault_id in notice.body.get("faults", []):
            fault = self.faults.get(fault_id)
            if fault is None:
                continue
            opening = QueuedNotice(notice.id, "open", fault.id, "", fault.level, notice.created, {})
            for channel, mentions in route(self.config, self._target(opening, fault)).items():
                ids, merged = listed.setdefault(channel, ([], Mentions()))
                ids.append(fault.id)
                merged.merge(mentions)
        return {
            channel: ([QueuedNotice(notice.id, notice.kind, None, "", None, notice.created, {**notice.body, "faults": ids})], mentions)
            for channel, (ids, mentions) in listed.items()
        }

    def _message(
        self,
        notices: list[QueuedNotice],
        faults: dict[str, Fault | None],
        mentions: Mentions,
        now: float,
        rates: list[GroupRate],
        grp: str | None = None,
    ) -> Message:
        composer = self.composer
        first = notices[0]
        grp = first.grp if grp is None else grp
        kind = first.kind
        pairs = [(faults[n.fault], n.body) for n in notices if n.fault and faults.get(n.fault) is not None]
        thread = ""
        level = None
        actions: list[tuple[str, str]] = []
        if kind in FAULT_KINDS and len(pairs) == 1:
            fault, body = pairs[0]
            assert fault is not None
            text = self._single(kind, fault, body, now, rates)
            thread, level = fault.id, fault.level
            actions = composer.console_actions(fault, kind)
        elif kind in FAULT_KINDS:
            text = composer.listing(kind, [(f, b) for f, b in pairs if f is not None], grp, now)
            thread = f"{kind}:{grp}:{first.id}"
            level = min(f.level for f, _ in pairs if f is not None)
        elif kind == "warn":
            text = self._warn(first)
            thread = f"warn:{first.grp}"
        elif kind == "startup":
            listed = [self.faults.get(fault_id) for fault_id in first.body.get("faults", [])]
            pairs = [(f, {}) for f in listed if f is not None]
            shown = [f for f, _ in pairs if f is not None]
            touched = sorted({line for f in shown for line in self._rates(f, rates)})
            text = startup_text(composer, first.body, shown, now, touched)
            thread = f"startup:{first.id}"
            level = min((f.level for f, _ in pairs if f is not None), default=None)
        elif kind == "meeting":
            text = meeting_text(composer, first.body.get("record", {}))
            thread = f"meeting:{first.body.get('uid', first.id)}"
        else:  # summary
            text = Text(first.body.get("title", ""), list(first.body.get("lines", [])), "info")
            thread = f"summary:{first.body.get('day', first.id)}"
        ids = ",".join(str(n.id) for n in notices)
        return Message(
            kind=kind,
            title=text.title,
            lines=text.lines,
            severity=text.severity,
            thread=thread,
            refs=[f.id for f, _ in pairs if f is not None],
            level=level,
            mobiles=list(mentions.mobiles),
            user_ids=list(mentions.user_ids),
            at_all=mentions.all,
            key="yw-" + hashlib.sha1(ids.encode()).hexdigest()[:16],
            starts_thread=kind == "open" and len(pairs) == 1,
            language=composer.language,
            actions=actions,
        )

    def _single(self, kind: str, fault: Fault, body: dict[str, Any], now: float, rates: list[GroupRate]) -> Text:
        composer = self.composer
        if kind == "open":
            return composer.opened(fault, now, self.config.recurring_days, self._rates(fault, rates))
        if kind == "resolved":
            return composer.resolved(fault, now)
        if kind == "ack":
            return composer.acknowledged(fault, now)
        if kind == "escalated":
            return composer.escalated(fault, now)
        if kind == "reminder":
            return composer.reminder(fault, body, now)
        return composer.overdue(fault, body, now)

    def _rates(self, fault: Fault, rates: list[GroupRate]) -> list[str]:
        """Online rates of the groups this fault takes devices out of (with a contract threshold)."""
        touched = {self.inventory.devices[d].group for d in [*fault.affected, fault.device or ""] if d in self.inventory.devices}
        if fault.group:
            touched.add(fault.group)
        lines = []
        for rate in rates:
            if rate.group in touched and rate.threshold is not None and rate.rate is not None:
                flag = " ❗" if rate.level == "breach" else (" ⚠" if rate.level == "warn" else "")
                lines.append(f"{rate.name} {rate.rate:.1%} ({rate.online_text(self.composer.language)}, {rate.threshold:.0%}){flag}")
        return lines

    def _warn(self, notice: QueuedNotice) -> Text:
        composer = self.composer
        group = self.inventory.groups.get(notice.grp)
        name = (group.name or group.id) if group else notice.grp
        body = notice.body
        title = f"{composer.tag(composer.t('warn'))}{name} " + composer.t("near", rate=body["rate"], threshold=body["threshold"])
        return Text(title, [f"- **{composer.t('online_rate')}**: {body['rate']:.2%} / {body['threshold']:.0%}"], "warning")


def _still_due(fault: Fault, body: dict[str, Any]) -> bool:
    if not fault.active:
        return False
    return not (body.get("window") == "respond" and fault.acknowledged is not None)
