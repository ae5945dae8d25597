"""The fault primitives the engine's parts share: open, resolve, absorb, re-grade.

Each change goes through ``store.faults.FaultStore.update`` on the re-read row, so what an
engineer wrote meanwhile (an ack, a manual resolution) is kept. A fault's level and deadlines
come from ``alerting.levels.LevelPolicy``; its chat notices are queued with the change, unless
the fault waits for the startup message (``alerting.startup``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from alerting.config import AlertingConfig
from alerting.levels import LevelPolicy
from alerting.startup import StartupFold
from inventory.config import Inventory
from store.faults import Change, Fault, FaultStore, Notice

log = logging.getLogger("yunwei.alerting")


class FaultWriter:
    """Opens, resolves, absorbs and re-grades faults for the engine (``alerting.engine.FaultEngine``)."""

    faults: FaultStore
    inventory: Inventory
    config: AlertingConfig
    policy: LevelPolicy
    language: str
    startup: StartupFold | None

    def _held(self, fault_id: str) -> bool:
        """A fault found at start whose chat notices wait for the startup message."""
        return self.startup is not None and fault_id in self.startup.faults

    def _set_affected(self, fault: Fault, affected: list[str], now: float) -> None:
        if fault.affected == affected:
            return
        policy = self.policy

        def mutate(f: Fault) -> Change | None:
            if not f.active or f.affected == affected:
                return None
            change = Change(events=[("affected", {"count": len(affected), "was": len(f.affected)})])
            f.affected = affected
            if f.waived is None and f.source != "manual":
                context = policy.context(f.source, f.device if f.source != "group" else None, f.group if f.source == "group" else None, affected, f.extra.get("metric"))
                level = policy.level(context)
                if level < f.level:
                    change.events.append(("escalated", {"from": f.level, "to": level}))
                    f.level = level
                    f.respond_by, f.resolve_by = policy.deadlines(level, f.opened, f.unit, f.system)
                    if not self._held(f.id):
                        change.notices.append(Notice("escalated", None, bucket(f), level))
            return change

        self.faults.update(fault.id, mutate, now)

    # -- fault primitives ----------------------------------------------------------------

    def _open(
        self,
        source: str,
        key: str,
        rkey: str,
        cause: str,
        opened: float,
        now: float,
        device: str | None = None,
        group: str | None = None,
        affected: Iterable[str] = (),
        metric: str | None = None,
        fixed_level: int | None = None,
        waived: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Fault | None:
        affected = sorted(affected)
        context = self.policy.context(source, device, group, affected, metric)
        level = self.policy.level(context, fixed_level)
        respond_by, resolve_by = self.policy.deadlines(level, opened, context.unit, context.system)
        change = Change()
        recurring_of = None if waived is not None else self.faults.recurrence_of(rkey, opened, self.config.recurring_days, cause)
        if recurring_of is not None:
            change.events.append(("recurring", {"previous": recurring_of}))
        fault = Fault(
            id="",
            key=key,
            rkey=rkey,
            source=source,
            state="open",
            level=level,
            cause=cause,
            opened=opened,
            respond_by=respond_by,
            resolve_by=resolve_by,
            device=device,
            group=context.group,
            system=context.system,
            unit=context.unit,
            waived=waived,
            recurring_of=recurring_of,
            affected=affected,
            extra=dict(extra or {}),
        )
        folded = waived is None and self.startup is not None and self.startup.folds(source, [device, *affected])
        if waived is None and not folded:
            change.notices.append(Notice("open", None, bucket(fault), level))
        opened_fault = self.faults.open(fault, now, change)
        if opened_fault is not None and folded and self.startup is not None:
            self.startup.faults.append(opened_fault.id)
        if opened_fault is not None:
            log.info("fault %s opened: level %d %s %s%s", fault.id, level, fault.scope, cause, f" ({waived})" if waived else "")
        return opened_fault

    def _resolve(self, fault: Fault, at: float, now: float, how: str, by: str = "") -> Fault | None:
        def mutate(f: Fault) -> Change | None:
            if not f.active:
                return None
            f.state, f.resolved, f.resolved_how, f.resolved_by = "resolved", max(at, f.opened), how, by or None
            held = f.waived is not None or self._held(f.id)
            notices = [] if held else [Notice("resolved", None, bucket(f), f.level)]
            return Change(events=[("resolved", {"how": how})], notices=notices, actor=by)

        result = self.faults.update(fault.id, mutate, now)
        if result is not None:
            log.info("fault %s resolved (%s)", fault.id, how)
        return result

    def _absorb(self, fault: Fault, into: Fault | None, now: float) -> None:
        """Close ``fault`` into the fault that covers its device now (kept open if there is none yet).

        It is resolved ``absorbed`` with ``absorbed_into`` naming the covering fault, which carries
        the outage (and its deadlines) from then on; its chat notices not sent yet are dropped.
        """
        if into is None or into.id == fault.id:
            return

        def mutate(f: Fault) -> Change | None:
            if not f.active:
                return None
            f.state, f.resolved, f.resolved_how, f.absorbed_into = "resolved", max(now, f.opened), "absorbed", into.id
            return Change(events=[("absorbed", {"into": into.id})], cancel_pending=True)

        self.faults.update(fault.id, mutate, now)

    def _text(self, english: str, chinese: str) -> str:
        return chinese if self.language == "zh" else english


def bucket(fault: Fault) -> str:
    """Storm grouping key: the device's group (or system) so one message lists many devices."""
    return fault.group or fault.system or fault.unit or ""


def set_extra(fault: Fault, key: str, value: Any) -> Change | None:
    if not fault.active or fault.extra.get(key) == value:
        return None
    fault.extra[key] = value
    return Change()
