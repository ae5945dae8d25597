"""The fault engine: device states, thresholds and maintenance in; graded faults out.

It is level-triggered. After each round (and on every tick) ``reconcile`` looks at which
devices are down now and decides which fault covers each of them:

- a down device under a down ancestor (line → switch → cameras) is covered by the topmost
  down ancestor's fault, which counts it as affected ("212 cameras unreachable");
- a device in a maintenance window gets a fault with ``waived: "maintenance"`` (recorded, not
  alerted, not counted); still down when the window ends, it gets an ordinary fault then;
- a device that went down ``flapping.count`` times in ``flapping.minutes`` has one "flapping"
  fault until it has been up for ``stable_minutes``;
- when enough of a group is down on its own (``group_faults.offline_ratio``), or the group's
  online rate is under its contract threshold, one group fault covers those members;
- any other down device gets its own fault once it has been down ``hold_seconds`` (so a
  parent or group fault seen a round later absorbs it instead of 300 separate alerts).

A device fault resolves automatically when the device is up again (dated from its recovery);
when a covering fault resolves, the devices still down get their own faults after
``dependency_grace_seconds``. Transitions themselves are never changed: suppressed children
still count as offline in the ledger.

Faults are always re-read from the store before being changed (see store.faults.FaultStore), so
an acknowledgement or manual resolution written by ``yunwei faults`` is never overwritten.

This module is the loop and the down devices; its parts: ``faultwriter`` (open, resolve,
absorb, re-grade), ``devicefaults`` (thresholds, degraded devices, flapping), ``groupfaults``
(group faults and online-rate warnings), ``reminders`` (deadlines), ``eventfaults`` (traps, syslog).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from zoneinfo import ZoneInfo

from agent import windows
from agent.fleet import states_now
from alerting.config import AlertingConfig
from alerting.devicefaults import DeviceFaults
from alerting.eventfaults import apply_event
from alerting.groupfaults import GroupFaults
from alerting.levels import LevelPolicy
from alerting.reminders import remind
from alerting.startup import StartupFold, startup_counts
from alerting.thresholds import Crossing, ThresholdWatch
from core.events import Event
from core.model import Sample, State, Transition
from inventory.config import Inventory
from inventory.maintenance import Occurrence
from store.db import Store
from store.faults import Fault, FaultStore

log = logging.getLogger("yunwei.alerting")


class FaultEngine(DeviceFaults, GroupFaults):
    """Opens, updates and resolves faults; owns no chat logic (notices are queued in the store)."""

    def __init__(self, store: Store, inventory: Inventory, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.faults = FaultStore(store, inventory.agent.id, inventory.agent.timezone)
        self.states: dict[str, tuple[State, float]] = dict(store.current_states())
        self.causes: dict[str, str] = {}
        self.flaps: dict[str, deque[float]] = defaultdict(deque)
        self.pending: dict[str, float] = {}  # device → when first seen needing its own fault
        self.uncovered_at: dict[str, float] = {}  # device → when its covering fault went away
        self.covered: set[str] = set()
        self.in_maintenance: dict[str, Occurrence] = {}
        self.group_pending: dict[str, float] = {}
        self.group_since: dict[str, float] = {}
        self.warned: dict[str, bool] = {}  # group online-rate warnings sent (mirrored in alert_kv)
        self.startup: StartupFold | None = None  # set by the daemon: faults found at start told in one message
        self.inventory = inventory
        self.reload(inventory)
        self._seed(self.clock())

    # -- configuration -------------------------------------------------------------------

    def reload(self, inventory: Inventory) -> None:
        """Adopt a new inventory and alerting section, keeping what is known about devices."""
        self.inventory = inventory
        self.config: AlertingConfig = inventory.config.alerting
        self.language = inventory.agent.language
        self.zone = ZoneInfo(inventory.agent.timezone)
        self.policy = LevelPolicy(self.config, inventory)
        self.windows_seen: tuple[int, int] | None = None
        self._refresh_calendar(self.clock())
        self.members: dict[str, list[str]] = defaultdict(list)
        for device in inventory.devices.values():
            if device.group:
                self.members[device.group].append(device.id)
        old = getattr(self, "thresholds", None)
        self.thresholds = ThresholdWatch(self.config.thresholds)
        if old is not None:
            self.thresholds.streaks = {k: v for k, v in old.streaks.items() if k[0] in {r.name for r in self.config.thresholds}}
            self.thresholds.active = {k for k in old.active if k[0] in {r.name for r in self.config.thresholds}}

    def _refresh_calendar(self, now: float) -> None:
        """The config's windows plus those made at run time (agent.windows), re-read when they change."""
        seen = windows.signature(self.store)
        if seen != self.windows_seen:
            self.windows_seen = seen
            self.calendar = windows.calendar(self.store, self.inventory, now)

    def _seed(self, now: float) -> None:
        """Recent outages (for flap counting) and breaches already open (so they can clear)."""
        window = self.config.flapping.minutes * 60
        for transition in self.store.transitions(now - window):
            if transition.state == State.DOWN:
                self.flaps[transition.device].append(transition.at)
        for fault in self.faults.active():
            if fault.source == "threshold" and fault.device:
                rule = fault.key.split(":")[1]
                self.thresholds.active.add((rule, fault.device))

    def shown_states(self, now: float | None = None) -> dict[str, tuple[State, float | None]]:
        """The devices' states as every face shows them (maintenance applied): ``agent.fleet``."""
        return states_now(self.states, self.calendar.covering(self.clock() if now is None else now))

    # -- input ---------------------------------------------------------------------------

    def on_round(
        self,
        samples: Iterable[Sample],
        transitions: Iterable[Transition],
        now: float | None = None,
        degraded: Mapping[str, tuple[str, ...]] | None = None,
        first_round_done: bool | None = None,
    ) -> None:
        """Take one round's samples and transitions (and the degraded devices), then reconcile."""
        now = self.clock() if now is None else now
        samples = list(samples)
        transitions = list(transitions)
        if self.startup is not None:
            self.startup.observe(transitions, first_round_done, now)
        for transition in transitions:
            self.states[transition.device] = (transition.state, transition.at)
            if transition.state == State.DOWN:
                self.causes[transition.device] = transition.cause
                self.flaps[transition.device].append(transition.at)
        self._refresh_calendar(now)
        maintenance = self.calendar.covering(now)
        crossings: list[Crossing] = []
        for sample in samples:
            device = self.inventory.devices.get(sample.device)
            if device is None or not sample.ok or not self.thresholds.rules:
                continue
            if self.states.get(device.id, (State.UNKNOWN, 0))[0] == State.DOWN or device.id in maintenance:
                continue
            crossings.extend(self.thresholds.observe(sample, device))
        for crossing in crossings:
            self._threshold(crossing, now)
        if degraded is not None:
            self._degraded(degraded, samples, maintenance, now)
        self.reconcile(now)

    def on_event(self, event: Event, now: float | None = None) -> str:
        """A pushed event (trap, syslog line) in: the fault it speaks for opened or resolved."""
        return apply_event(self, event, self.clock() if now is None else now)

    # -- the main loop -------------------------------------------------------------------

    def reconcile(self, now: float | None = None) -> None:
        """Bring the faults in the store in line with the devices' states now."""
        now = self.clock() if now is None else now
        devices = self.inventory.devices
        self._refresh_calendar(now)
        maintenance = self.calendar.covering(now)
        down = {d for d, (state, _) in self.states.items() if state == State.DOWN and d in devices}

        # dependency: every down device is covered by its topmost down ancestor
        top: dict[str, str] = {}
        for device_id in down:
            root, parent = device_id, devices[device_id].parent
            while parent is not None and parent in devices:
                if parent in down:
                    root = parent
                parent = devices[parent].parent
            top[device_id] = root
        roots = {d for d in down if top[d] == d}
        behind: dict[str, list[str]] = defaultdict(list)
        for device_id, root in top.items():
            if root != device_id:
                behind[root].append(device_id)

        flapping = self._flapping(now, {f.key: f for f in self.faults.active()}, maintenance)

        # devices whose parent fault just went away wait a grace period (they may just be slower to come back)
        active = {f.key: f for f in self.faults.active()}
        for root in roots & self.covered:
            group_id = devices[root].group
            if not (group_id and f"group:{group_id}" in active):
                self.uncovered_at.setdefault(root, now)
        grace = self.config.dependency_grace_seconds
        settling = {d for d, at in self.uncovered_at.items() if now < at + grace}

        # groups: many members down on their own, or the online rate under the contract's threshold
        for group_id, members in self.members.items():
            self._group(group_id, members, down, roots - settling, maintenance, flapping, active, behind, now)
        active = {f.key: f for f in self.faults.active()}
        group_of_root: dict[str, str] = {}
        for group_id, members in self.members.items():
            if f"group:{group_id}" in active:
                for member in members:
                    if member in roots and member not in maintenance and member not in flapping:
                        group_of_root[member] = group_id

        def cover_key(device_id: str) -> str:
            root = top[device_id]
            if root in maintenance:
                return f"down:{root}"
            if root in flapping:
                return f"flapping:{root}"
            if root in group_of_root:
                return f"group:{group_of_root[root]}"
            return f"down:{root}"

        covered_now = {d for d in down if cover_key(d) != f"down:{d}"}
        for device_id in (self.covered - covered_now) & down:
            self.uncovered_at.setdefault(device_id, now)  # its parent or group fault went away
        for device_id in [d for d in self.uncovered_at if d not in down or d in covered_now]:
            del self.uncovered_at[device_id]

        # maintenance and own faults of the roots
        for root in sorted(roots):
            key = f"down:{root}"
            fault = active.get(key)
            if root in maintenance:
                self.pending.pop(root, None)
                if fault is None:
                    self._open_down(root, now, waived="maintenance", affected=behind.get(root, []), opened=now)
                continue
            if fault is not None and fault.waived == "maintenance":
                # the window ended with the device still down: alert now
                self._resolve(fault, now, now, "maintenance_end")
                self.pending.pop(root, None)
                self._open_down(root, now, affected=behind.get(root, []), opened=now)
                continue
            if root in flapping or root in group_of_root or fault is not None:
                self.pending.pop(root, None)
                continue
            self._maybe_open_own(root, now, behind.get(root, []))

        # faults whose device is up again, gone, or covered by another fault now
        active = {f.key: f for f in self.faults.active()}
        for key, fault in active.items():
            if fault.device is None or fault.source not in ("down", "threshold", "flapping", "event"):
                continue
            device_id = fault.device
            if device_id not in devices:
                self._resolve(fault, now, now, "removed")
            elif fault.source != "down":
                continue
            elif device_id not in down:
                state, since = self.states.get(device_id, (State.UNKNOWN, now))
                if state == State.UP:
                    self._resolve(fault, max(since, fault.opened), now, "auto")
            elif fault.waived != "maintenance" and cover_key(device_id) != key:
                self._absorb(fault, active.get(cover_key(device_id)), now)

        # affected lists (and escalation) of root and group faults
        active = {f.key: f for f in self.faults.active()}
        for root in roots:
            for key in (f"down:{root}", f"flapping:{root}"):
                if key in active:
                    self._set_affected(active[key], sorted(behind.get(root, [])), now)
        for group_id, members in self.members.items():
            fault = active.get(f"group:{group_id}")
            if fault is not None:
                mine = [m for m in members if group_of_root.get(m) == group_id]
                affected = sorted(set(mine) | {b for m in mine for b in behind.get(m, [])})
                self._set_affected(fault, affected, now)

        for device_id in [d for d in self.pending if d not in down or d in covered_now]:
            del self.pending[device_id]
        self.covered = covered_now
        self.in_maintenance = maintenance
        self._end_startup(now)

    def _end_startup(self, now: float) -> None:
        """When the start is over, queue its one message (alerting.startup)."""
        startup = self.startup
        if startup is None:
            return
        waiting = set(self.pending) | set(self.uncovered_at)
        waiting.update(m for g in self.group_pending for m in self.members.get(g, []))
        if not startup.over(now, waiting, self.config.hold_seconds + self.config.dependency_grace_seconds):
            return
        self.startup = None
        notice = startup.notice(startup_counts(self.shown_states(now), self.inventory.devices), self.faults.active())
        if notice is not None:
            self.faults.add_notices([notice], now)
            log.info("start over: %d fault(s) found at start, told in one message", len(startup.faults))

    # -- pieces of reconcile -------------------------------------------------------------

    def _maybe_open_own(self, root: str, now: float, affected: list[str]) -> None:
        # the hold counts from the outage's first failed sample, so it overlaps the debounce
        # (and its re-probes) instead of following it
        first_seen = self.pending.setdefault(root, min(now, self.states[root][1]))
        wait = self.config.hold_seconds
        uncovered = self.uncovered_at.get(root)
        if uncovered is not None:
            wait = max(wait, self.config.dependency_grace_seconds)
            first_seen = max(first_seen, uncovered)
        if now < first_seen + wait:
            return
        state_since = self.states[root][1]
        opened = uncovered if uncovered is not None else state_since
        last = self.faults.last_for_key(f"down:{root}")
        if last is not None and last.resolved_how == "manual" and last.resolved is not None and last.resolved >= state_since:
            # resolved by hand while still down: a new fault once it has stayed down for the
            # debounce after that (it is still down; the engineer's fix did not hold)
            confirmed = last.resolved + self._debounce_seconds(root)
            if now < confirmed:
                return
            opened = max(opened, confirmed)
        self._open_down(root, now, affected=affected, opened=opened)
        self.pending.pop(root, None)

    def _debounce_seconds(self, device_id: str) -> float:
        """How long failures take to confirm a device down: ``down_after`` of its fastest probe."""
        probes = self.inventory.devices[device_id].probes.values()
        interval = min((p.interval for p in probes), default=self.inventory.agent.default_interval)
        return max(self.config.hold_seconds, self.inventory.agent.debounce.down_after * interval)

    def _open_down(
        self, device_id: str, now: float, affected: list[str], opened: float, waived: str | None = None
    ) -> Fault | None:
        cause = self.causes.get(device_id) or self._text("no answer", "无响应")
        return self._open(
            "down",
            f"down:{device_id}",
            f"down:{device_id}",
            cause,
            opened,
            now,
            device=device_id,
            affected=affected,
            waived=waived,
            extra={"outage_since": self.states.get(device_id, (State.DOWN, opened))[1], "behind": self._behind_count(device_id)},
        )

    def _behind_count(self, device_id: str) -> int:
        """How many devices sit behind this one in the parent tree (reachable or not)."""
        children: dict[str, list[str]] = getattr(self, "_children", {})
        if not children or getattr(self, "_children_of", None) is not self.inventory:
            children = defaultdict(list)
            for device in self.inventory.devices.values():
                if device.parent:
                    children[device.parent].append(device.id)
            self._children, self._children_of = children, self.inventory
        count, stack = 0, list(children.get(device_id, []))
        while stack:
            current = stack.pop()
            count += 1
            stack.extend(children.get(current, []))
        return count

    # -- deadlines -----------------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        """Periodic work: windows that opened or closed, holds that expired, deadline reminders."""
        now = self.clock() if now is None else now
        self.reconcile(now)
        self.remind(now)

    def remind(self, now: float) -> None:
        """Reminders at the configured fractions of each deadline window, and one overdue notice."""
        remind(self.faults, self.config.reminders, now)
