"""InfluxDB line protocol for yunwei's data: pure functions, no I/O.

Measurements (see docs/exporters.md for the full schema):

- ``yunwei``: one line per probe sample; tags agent, unit, system, group, device, kind, probe;
  fields ``up`` (1/0) and every numeric metric of the probe;
- ``yunwei_if``: interface metrics (``if.<interface>.<metric>`` in a sample) with the extra tag
  ``interface`` and fields such as ``in_bps``/``out_bps``;
- ``yunwei_state``: confirmed state changes (fields ``up``, ``down``, ``code``);
- ``yunwei_group``: a group's live online rate (fields ``online``, ``total``, ``online_ratio``,
  ``online_threshold``);
- ``yunwei_fault``: fault lifecycle points (tags ``fault``, ``level``; fields ``open``,
  ``acknowledged``, ``level``, ``duration_seconds``).

Every value is written as a float (never ``i`` integers) so a field never changes type, and
with an explicit millisecond timestamp, so writing the same point again overwrites it with the
same content: replays are idempotent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent.fleet import GroupRate
from core.metrics import split_instance_metric
from core.model import Sample, State, Transition
from exporters.families import field_in_base_unit
from inventory.models import ResolvedDevice

MEASUREMENT = "yunwei"
IF_MEASUREMENT = "yunwei_if"
STATE_MEASUREMENT = "yunwei_state"
GROUP_MEASUREMENT = "yunwei_group"
FAULT_MEASUREMENT = "yunwei_fault"
MEASUREMENTS = (MEASUREMENT, IF_MEASUREMENT, STATE_MEASUREMENT, GROUP_MEASUREMENT, FAULT_MEASUREMENT)

# the numeric code of a state in yunwei_state.code
STATE_CODE = {State.DOWN: 0.0, State.UP: 1.0, State.MAINTENANCE: 2.0, State.UNKNOWN: 3.0}

# metric name prefixes that carry an instance (core.metrics): "if.<name>.<metric>" → measurement, tag
INSTANCE_MEASUREMENTS = {"if": (IF_MEASUREMENT, "interface")}

_TAG_ESCAPE = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": " ", "\r": " ", "\\": "/"})
_MEASUREMENT_ESCAPE = str.maketrans({",": r"\,", " ": r"\ ", "\n": " "})
_FIELD_KEY = re.compile(r"[^A-Za-z0-9_]")


def escape_tag(text: str) -> str:
    """A tag key or value: commas, equals and spaces escaped; newlines and backslashes neutralised."""
    return text.translate(_TAG_ESCAPE)


def escape_measurement(text: str) -> str:
    return text.translate(_MEASUREMENT_ESCAPE)


def field_key(name: str) -> str:
    """Field keys are kept Prometheus-compatible (VictoriaMetrics names series measurement_field)."""
    key = _FIELD_KEY.sub("_", name)
    return key if key and not key[0].isdigit() else f"_{key}"


def format_value(value: object) -> str | None:
    """A float field value, or None for what line protocol cannot carry (NaN, inf, non-numbers)."""
    if isinstance(value, bool):
        return "1.0" if value else "0.0"
    if isinstance(value, int | float):
        number = float(value)
        if math.isfinite(number):
            return repr(number)
    return None


def _scaled(value: object, factor: float) -> object:
    return float(value) * factor if isinstance(value, int | float) and not isinstance(value, bool) else value


def timestamp_ms(ts: float) -> int:
    return int(round(ts * 1000.0))


def tag_set(tags: Mapping[str, str | None]) -> str:
    """``,k=v,k=v`` sorted by key; empty values left out (line protocol has no empty tags)."""
    return "".join(f",{escape_tag(k)}={escape_tag(v)}" for k, v in sorted(tags.items()) if v)


def device_tags(agent: str, device_id: str, device: ResolvedDevice | None) -> dict[str, str | None]:
    """The tags every series of a device carries (the Prometheus labels are the same)."""
    if device is None:
        return {"agent": agent, "device": device_id}
    return {
        "agent": agent,
        "unit": device.unit,
        "system": device.system,
        "group": device.group,
        "device": device_id,
        "kind": device.kind,
    }


@dataclass
class _DeviceLines:
    head: str  # "yunwei,agent=..,device=..,group=..,kind=.."  (tags sorting before "probe")
    tail: str  # ",system=..,unit=.."                          (tags sorting after "probe")
    tags: str  # all device tags, for the other measurements


class _Fields:
    """A collector's field key and factor by metric name, plain and per interface: declared
    metrics in their base unit (exporters.families), filled in as the names are met."""

    def __init__(self, collector: str | None) -> None:
        self.collector = collector
        self.plain: dict[str, tuple[str, float]] = {}
        self.per_interface: dict[str, tuple[str, float]] = {}

    def add(self, name: str, per_interface: bool) -> tuple[str, float]:
        base, factor = field_in_base_unit(self.collector, name, per_interface)
        found = (field_key(base), factor)
        (self.per_interface if per_interface else self.plain)[name] = found
        return found


class LineEncoder:
    """Encodes samples and transitions, caching each device's tag strings (cleared on reload)."""

    def __init__(self, agent: str, devices: Mapping[str, ResolvedDevice]) -> None:
        self.agent = agent
        self.devices = devices
        self._cache: dict[str, _DeviceLines] = {}
        self._keys: dict[str | None, _Fields] = {}

    def reload(self, agent: str, devices: Mapping[str, ResolvedDevice]) -> None:
        self.agent, self.devices = agent, devices
        self._cache.clear()

    def _device(self, device_id: str) -> _DeviceLines:
        found = self._cache.get(device_id)
        if found is None:
            tags = device_tags(self.agent, device_id, self.devices.get(device_id))
            before = {k: v for k, v in tags.items() if k < "probe"}
            after = {k: v for k, v in tags.items() if k > "probe"}
            found = _DeviceLines(MEASUREMENT + tag_set(before), tag_set(after), tag_set(tags))
            self._cache[device_id] = found
        return found

    def _fields(self, sample: Sample) -> _Fields:
        """The field names of the sample's collector (cached per collector)."""
        device = self.devices.get(sample.device)
        probe = device.probes.get(sample.probe) if device is not None else None
        collector = probe.collector if probe is not None else None
        found = self._keys.get(collector)
        if found is None:
            found = self._keys[collector] = _Fields(collector)
        return found

    def sample_lines(self, sample: Sample, out: list[str]) -> None:
        """Append the lines of one sample (``yunwei`` and, for interface metrics, ``yunwei_if``)."""
        lines = self._device(sample.device)
        ts = timestamp_ms(sample.ts)
        probe = escape_tag(sample.probe)
        fields = ["up=1.0" if sample.ok else "up=0.0"]
        instances: dict[tuple[str, str], list[str]] | None = None
        names = self._fields(sample)
        plain, per_interface = names.plain, names.per_interface
        for name, value in sample.metrics.items():
            if "." in name:
                split = split_instance_metric(name)
                if split is not None:
                    metric = split[2]
                    key, factor = per_interface.get(metric) or names.add(metric, True)
                    text = format_value(value if factor == 1.0 else _scaled(value, factor))
                    if text is not None:
                        if instances is None:
                            instances = {}
                        instances.setdefault((split[0], split[1]), []).append(f"{key}={text}")
                    continue
            key, factor = plain.get(name) or names.add(name, False)
            text = format_value(value if factor == 1.0 else _scaled(value, factor))
            if text is not None:
                fields.append(f"{key}={text}")
        out.append(f"{lines.head},probe={probe}{lines.tail} {','.join(fields)} {ts}")
        if instances:
            for (prefix, instance), instance_fields in instances.items():
                measurement, tag = INSTANCE_MEASUREMENTS[prefix]
                out.append(
                    f"{measurement}{lines.tags},{tag}={escape_tag(instance)},probe={probe} {','.join(instance_fields)} {ts}"
                )

    def transition_line(self, transition: Transition) -> str:
        lines = self._device(transition.device)
        up = 1.0 if transition.state == State.UP else 0.0
        down = 1.0 if transition.state == State.DOWN else 0.0
        code = STATE_CODE.get(State(transition.state), 3.0)
        return f"{STATE_MEASUREMENT}{lines.tags} up={up!r},down={down!r},code={code!r} {timestamp_ms(transition.at)}"

    def encode(self, samples: Iterable[Sample], transitions: Iterable[Transition] = ()) -> list[str]:
        out: list[str] = []
        for sample in samples:
            self.sample_lines(sample, out)
        for transition in transitions:
            out.append(self.transition_line(transition))
        return out


def group_line(agent: str, unit: str | None, system: str | None, rate: GroupRate, ts: float) -> str:
    """The group's rate now (``agent.fleet.group_rate``): ``total`` counts the members observed,
    ``online_ratio`` is left out while none is (no false 0 % after a start)."""
    tags = tag_set({"agent": agent, "group": rate.group, "unit": unit, "system": system})
    fields = f"online={float(rate.online)!r},total={float(rate.observed)!r}"
    if rate.rate is not None:
        fields += f",online_ratio={rate.rate!r}"
    fields += f",unknown={float(rate.unknown)!r},maintenance={float(rate.maintenance)!r}"
    if rate.threshold is not None:
        fields += f",online_threshold={float(rate.threshold)!r}"
    return f"{GROUP_MEASUREMENT}{tags} {fields} {timestamp_ms(ts)}"


def fault_lines(tags: Mapping[str, str | None], fault_id: str, level: int | None, times: FaultTimes) -> list[str]:
    """The points of one fault: opened (open=1), acknowledged, resolved (open=0, duration)."""
    all_tags = dict(tags)
    all_tags["fault"] = fault_id
    all_tags["level"] = str(level) if level is not None else None
    head = FAULT_MEASUREMENT + tag_set(all_tags)
    level_field = f",level={float(level)!r}" if level is not None else ""
    lines = [f"{head} open=1.0,acknowledged=0.0{level_field} {timestamp_ms(times.opened)}"]
    if times.acknowledged is not None and (times.resolved is None or times.acknowledged < times.resolved):
        lines.append(f"{head} open=1.0,acknowledged=1.0{level_field} {timestamp_ms(max(times.acknowledged, times.opened))}")
    if times.resolved is not None:
        acknowledged = 1.0 if times.acknowledged is not None else 0.0
        duration = max(0.0, times.resolved - times.opened)
        lines.append(
            f"{head} open=0.0,acknowledged={acknowledged!r}{level_field},duration_seconds={duration!r}"
            f" {timestamp_ms(max(times.resolved, times.opened))}"
        )
    return lines


@dataclass(frozen=True)
class FaultTimes:
    opened: float
    acknowledged: float | None = None
    resolved: float | None = None
