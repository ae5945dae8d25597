"""One UPS model from two sources (SNMP UPS-MIB, NUT upsd) and the states derived from it.

``UpsReading`` is what a UPS said this round, whichever way it was asked. ``UpsTracker``
remembers what it said before and turns readings into the states alerting raises faults on:
on battery (since when), low battery, depleted, replace battery, overload, on bypass, runtime
below the contract's required hours, comms lost. Metric and info names are listed in
docs/snmp.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from collectors._snmp import ber, oids
from collectors._snmp.ber import VarBind

OUTPUT_SOURCE = {1: "other", 2: "none", 3: "normal", 4: "bypass", 5: "battery", 6: "booster", 7: "reducer"}
BATTERY_STATUS = {1: "unknown", 2: "normal", 3: "low", 4: "depleted"}
NUT_FLAGS = {
    "OL": "online",
    "OB": "on battery",
    "LB": "low battery",
    "HB": "high battery",
    "RB": "replace battery",
    "CHRG": "charging",
    "DISCHRG": "discharging",
    "BYPASS": "on bypass",
    "CAL": "calibrating",
    "OFF": "output off",
    "OVER": "overloaded",
    "TRIM": "trimming voltage",
    "BOOST": "boosting voltage",
    "FSD": "forced shutdown",
    "ALARM": "alarm",
}

# the UPS-MIB scalars read each round, in this order
SNMP_OIDS = (
    oids.UPS_OUTPUT_SOURCE,
    oids.UPS_BATTERY_STATUS,
    oids.UPS_SECONDS_ON_BATTERY,
    oids.UPS_MINUTES_REMAINING,
    oids.UPS_CHARGE_REMAINING,
    oids.UPS_BATTERY_TEMPERATURE,
    oids.UPS_INPUT_VOLTAGE_1,
    oids.UPS_OUTPUT_VOLTAGE_1,
    oids.UPS_OUTPUT_LOAD_1,
    oids.UPS_ALARMS_PRESENT,
    oids.UPS_IDENT_MANUFACTURER,
    oids.UPS_IDENT_MODEL,
)


@dataclass
class UpsReading:
    """What the UPS reported this round (None: not reported)."""

    source: str
    status: str = ""
    on_battery: bool = False
    low_battery: bool = False
    depleted: bool = False
    replace_battery: bool = False
    overload: bool = False
    on_bypass: bool = False
    comms_lost: bool = False
    charge_percent: float | None = None
    runtime_seconds: float | None = None
    seconds_on_battery: float | None = None
    input_voltage: float | None = None
    output_voltage: float | None = None
    load_percent: float | None = None
    battery_temperature_c: float | None = None
    alarms: list[str] = field(default_factory=list)
    model: str = ""
    problems: list[str] = field(default_factory=list)


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def from_nut(variables: dict[str, str]) -> UpsReading:
    """A reading from NUT ``LIST VAR`` variables."""
    status = variables.get("ups.status", "").strip()
    flags = set(status.split())
    reading = UpsReading(source="nut", status=status)
    if not status:
        reading.problems.append("upsd reports no ups.status")
    reading.on_battery = "OB" in flags
    reading.low_battery = "LB" in flags
    reading.replace_battery = "RB" in flags
    reading.overload = "OVER" in flags
    reading.on_bypass = "BYPASS" in flags
    reading.comms_lost = "WAIT" in flags or (bool(flags) and not flags & {"OL", "OB", "BYPASS", "OFF"})
    reading.charge_percent = _float(variables.get("battery.charge"))
    reading.runtime_seconds = _float(variables.get("battery.runtime"))
    reading.input_voltage = _float(variables.get("input.voltage"))
    reading.output_voltage = _float(variables.get("output.voltage"))
    reading.load_percent = _float(variables.get("ups.load"))
    reading.battery_temperature_c = _float(variables.get("battery.temperature"))
    alarm = variables.get("ups.alarm", "").strip()
    if alarm:
        reading.alarms.append(alarm)
    reading.model = " ".join(v for v in (variables.get("ups.mfr") or variables.get("device.mfr"), variables.get("ups.model") or variables.get("device.model")) if v)
    return reading


def _number(varbind: VarBind, what: str, problems: list[str]) -> int | None:
    if varbind.is_exception:
        return None
    if varbind.tag in (ber.INTEGER, ber.GAUGE32, ber.COUNTER32, ber.TIMETICKS):
        return int(varbind.value)
    problems.append(f"{what}: expected an integer, got {varbind.type_name}")
    return None


def from_snmp(values: list[VarBind], alarm_rows: list[VarBind]) -> UpsReading:
    """A reading from the UPS-MIB scalars (``SNMP_OIDS`` order) and the alarm table's descr column."""
    reading = UpsReading(source="snmp")
    problems = reading.problems
    (source, battery, seconds, minutes, charge, temperature, v_in, v_out, load, alarms, mfr, model) = values
    source_value = _number(source, "upsOutputSource", problems)
    battery_value = _number(battery, "upsBatteryStatus", problems)
    if source_value is None and battery_value is None:
        problems.append("the agent has no UPS-MIB (upsOutputSource and upsBatteryStatus missing)")
    reading.on_battery = source_value == 5
    reading.on_bypass = source_value == 4
    reading.low_battery = battery_value in (3, 4)
    reading.depleted = battery_value == 4
    reading.status = ", ".join(
        part
        for part in (
            f"output {OUTPUT_SOURCE.get(source_value, str(source_value))}" if source_value is not None else "",
            f"battery {BATTERY_STATUS.get(battery_value, str(battery_value))}" if battery_value is not None else "",
        )
        if part
    )
    on_battery_for = _number(seconds, "upsSecondsOnBattery", problems)
    if reading.on_battery and on_battery_for:
        reading.seconds_on_battery = float(on_battery_for)
    remaining = _number(minutes, "upsEstimatedMinutesRemaining", problems)
    reading.runtime_seconds = remaining * 60.0 if remaining is not None else None
    for name, varbind, attribute in (
        ("upsEstimatedChargeRemaining", charge, "charge_percent"),
        ("upsBatteryTemperature", temperature, "battery_temperature_c"),
        ("upsInputVoltage", v_in, "input_voltage"),
        ("upsOutputVoltage", v_out, "output_voltage"),
        ("upsOutputPercentLoad", load, "load_percent"),
    ):
        value = _number(varbind, name, problems)
        if value is not None:
            setattr(reading, attribute, float(value))
    for row in alarm_rows:
        if row.tag != ber.OBJECT_IDENTIFIER:
            continue
        alarm_oid = tuple(row.value)
        if alarm_oid[: len(oids.UPS_ALARMS)] == oids.UPS_ALARMS and len(alarm_oid) == len(oids.UPS_ALARMS) + 1:
            reading.alarms.append(oids.UPS_ALARM_NAMES.get(alarm_oid[-1], f"alarm {alarm_oid[-1]}"))
        else:
            reading.alarms.append(ber.format_oid(alarm_oid))
    count = _number(alarms, "upsAlarmsPresent", problems)
    if count and not alarm_rows:
        reading.alarms.append(f"{count} alarm(s) present")
    names = set(reading.alarms)
    reading.replace_battery = "battery_bad" in names
    reading.overload = "output_overload" in names or (reading.load_percent is not None and reading.load_percent > 100)
    reading.comms_lost = "communications_lost" in names
    reading.on_battery = reading.on_battery or "on_battery" in names
    reading.low_battery = reading.low_battery or bool(names & {"low_battery", "depleted_battery"})
    reading.model = " ".join(
        part for part in (_text(mfr), _text(model)) if part
    )
    return reading


def _text(varbind: VarBind) -> str:
    if varbind.tag == ber.OCTET_STRING:
        return bytes(varbind.value).decode("utf-8", errors="replace").strip()
    return ""


@dataclass
class UpsTracker:
    """One UPS's memory between rounds: since when it is on battery, low, in its current state."""

    on_battery_since: float | None = None
    low_battery_since: float | None = None
    state: str | None = None
    state_since: float | None = None

    def restore(self, metrics: Mapping[str, float], info: Mapping[str, str]) -> None:
        """Take up where the last recorded sample of this UPS left off (after an agent restart).

        An outage the UPS itself does not date (NUT has no "seconds on battery") keeps the
        start the agent saw before it stopped, as a comms-lost gap does.
        """
        self.on_battery_since = metrics.get("on_battery_since")
        self.low_battery_since = metrics.get("low_battery_since")
        state = info.get("state")
        if state:
            self.state, self.state_since = state, metrics.get("state_since")

    def derive(
        self, reading: UpsReading, now: float, required_runtime_seconds: float | None
    ) -> tuple[dict[str, float], dict[str, str]]:
        """Metrics and info of one round; updates the memory."""
        metrics: dict[str, float] = {}
        info: dict[str, str] = {"ups_status": reading.status, "source": reading.source}
        restored_after = None
        if reading.on_battery:
            if reading.seconds_on_battery is not None:  # the UPS's own count wins
                self.on_battery_since = now - reading.seconds_on_battery
            elif self.on_battery_since is None:
                self.on_battery_since = now
        elif self.on_battery_since is not None:
            restored_after = now - self.on_battery_since
            self.on_battery_since = None
        if reading.low_battery:
            if self.low_battery_since is None:
                self.low_battery_since = now
        else:
            self.low_battery_since = None

        for name in ("on_battery", "low_battery", "replace_battery", "overload", "on_bypass", "comms_lost"):
            metrics[name] = 1.0 if getattr(reading, name) else 0.0
        metrics["battery_depleted"] = 1.0 if reading.depleted else 0.0
        if self.on_battery_since is not None:
            metrics["on_battery_since"] = self.on_battery_since
            metrics["on_battery_seconds"] = max(0.0, now - self.on_battery_since)
        if self.low_battery_since is not None:
            metrics["low_battery_since"] = self.low_battery_since
        if restored_after is not None:
            metrics["mains_restored_after_seconds"] = restored_after
        for name in (
            "charge_percent",
            "runtime_seconds",
            "input_voltage",
            "output_voltage",
            "load_percent",
            "battery_temperature_c",
        ):
            value = getattr(reading, name)
            if value is not None:
                metrics[name] = value
        metrics["alarms_present"] = float(len(reading.alarms))
        if reading.alarms:
            info["alarms"] = ", ".join(reading.alarms)
        if reading.model:
            info["model"] = reading.model
        if required_runtime_seconds is not None:
            metrics["required_runtime_seconds"] = required_runtime_seconds
            if reading.runtime_seconds is not None:
                metrics["runtime_below_required"] = 1.0 if reading.runtime_seconds < required_runtime_seconds else 0.0

        state = self._state(reading, metrics)
        if state != self.state:
            self.state, self.state_since = state, now
        info["state"] = state
        metrics["state_since"] = self.state_since if self.state_since is not None else now
        return metrics, info

    @staticmethod
    def _state(reading: UpsReading, metrics: dict[str, float]) -> str:
        """The one word that sums the UPS up, worst first."""
        if reading.comms_lost:
            return "comms_lost"
        if reading.depleted:
            return "battery_depleted"
        if reading.on_battery and reading.low_battery:
            return "low_battery"
        if reading.on_battery:
            return "on_battery"
        if reading.low_battery:
            return "low_battery"
        if reading.overload:
            return "overload"
        if reading.replace_battery:
            return "replace_battery"
        if metrics.get("runtime_below_required"):
            return "runtime_below_required"
        if reading.on_bypass:
            return "on_bypass"
        return "online"
