"""What a trap means: the built-in meanings of standard and common vendor traps, and the
config's rules for any other OID. Numeric OIDs only (no MIB files are needed or shipped).

Built in:
- SNMPv2-MIB generic traps: coldStart/warmStart (reboot), linkDown/linkUp (the interface by
  ifName/ifDescr from the trap, else from the poller's last samples, else ``ifIndex N``),
  authenticationFailure;
- UPS-MIB (RFC 1628): upsTrapOnBattery, upsTrapTestCompleted, upsTrapAlarmEntryAdded/Removed
  with the well-known alarm (on battery, low battery, replace battery, overload, output off …);
- HUAWEI-IF-EXT-MIB hwIfFlowDown/Up, hwExtLinkDown/Up, hwExtAllMemberDownNotify/Resume (a
  trunk's last member down) as interface down/up;
- HUAWEI-ENTITY-TRAP-MIB power and fan failure/resume, temperature alarm/resume;
- H3C/HH3C-ENTITY-EXT-MIB entity fault alarm on/off, entity removed/inserted, oper disabled/enabled.

A config rule for the same OID wins over the built-in meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from collectors._snmp.ber import Oid, format_oid
from collectors._snmp.notify import Notification, oid_text, value_text
from collectors._snmp.oids import UPS_ALARM_NAMES, UPS_ALARMS
from core.events import Event
from receivers.config import TrapRule

IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
IF_DESCR = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
IF_NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
ENT_PHYSICAL_NAME = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 7)
ENT_PHYSICAL_DESCR = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 2)
UPS_ALARM_DESCR = (1, 3, 6, 1, 2, 1, 33, 1, 6, 2, 1, 2)
UPS_TEST_SUMMARY = (1, 3, 6, 1, 2, 1, 33, 1, 7, 3)
UPS_MINUTES_REMAINING = (1, 3, 6, 1, 2, 1, 33, 1, 2, 3)

# The UPS collector's metric for a well-known alarm (collectors/_ups.py), where it has one.
UPS_ALARM_METRICS = {
    "battery_bad": "replace_battery",
    "on_battery": "on_battery",
    "low_battery": "low_battery",
    "depleted_battery": "battery_depleted",
    "output_overload": "overload",
    "on_bypass": "on_bypass",
    "communications_lost": "comms_lost",
}
UPS_ALARM_TEXT = {
    "battery_bad": ("UPS 电池需更换", "UPS battery needs replacing"),
    "on_battery": ("UPS 市电中断, 电池供电", "UPS on battery (mains lost)"),
    "low_battery": ("UPS 电池电量低", "UPS battery low"),
    "depleted_battery": ("UPS 电池耗尽", "UPS battery depleted"),
    "output_overload": ("UPS 输出过载", "UPS output overload"),
    "on_bypass": ("UPS 旁路供电", "UPS on bypass"),
    "ups_output_off": ("UPS 输出关闭", "UPS output off"),
    "output_off_as_requested": ("UPS 按请求关闭输出", "UPS output off as requested"),
    "communications_lost": ("UPS 通信中断", "UPS communications lost"),
}
UPS_TEST_RESULTS = {1: ("通过", "passed"), 2: ("警告", "warning"), 3: ("失败", "error"), 4: ("中止", "aborted")}


@dataclass(slots=True)
class Context:
    """What a meaning may look at besides the trap."""

    language: str = "zh"
    interface_name: Callable[[str, int], str | None] = lambda device, index: None

    def t(self, zh: str, en: str) -> str:
        return zh if self.language == "zh" else en


def _find(notification: Notification, column: Oid) -> tuple[Oid, object] | None:
    for varbind in notification.varbinds:
        if varbind.oid[: len(column)] == column and len(varbind.oid) > len(column):
            return varbind.oid[len(column) :], varbind.value
    return None


def _text_of(notification: Notification, column: Oid) -> str | None:
    found = _find(notification, column)
    if found is None:
        return None
    value = found[1]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def interface_of(notification: Notification, device: str | None, context: Context) -> str:
    """The interface a linkDown/linkUp speaks of, by the poller's name for its ifIndex when the
    poller knows it (so a confirming poll reads the same metric), else ifName, ifDescr, ifIndex."""
    index: int | None = None
    for varbind in notification.varbinds:  # ifIndex.N, ifAdminStatus.N, ifOperStatus.N …: the index is the last arc
        for entry in (IF_ENTRY, IFX_ENTRY):
            if varbind.oid[: len(entry)] == entry and len(varbind.oid) == len(entry) + 2:
                index = varbind.oid[-1]
                break
        if index is not None:
            break
    known = context.interface_name(device, index) if device and index is not None else None
    if known:
        return known
    for column in (IF_NAME, IF_DESCR):
        name = _text_of(notification, column)
        if name:
            return name
    return f"ifIndex {index}" if index is not None else ""


def _link(up: bool, name: str = "") -> Callable[[Event, Notification, Context], None]:
    def meaning(event: Event, notification: Notification, context: Context) -> None:
        interface = interface_of(notification, event.device, context)
        event.name = name or ("linkUp" if up else "linkDown")
        event.hint = "up" if up else "down"
        event.subject = interface
        if interface and not interface.startswith("ifIndex "):
            event.metric, event.value = f"if.{interface}.oper_up", 1.0 if up else 0.0
        where = interface or context.t("接口", "an interface")
        event.text = context.t(f"{where} 链路{'恢复' if up else '中断'}", f"{where} link {'up' if up else 'down'}")

    return meaning


def _restart(warm: bool) -> Callable[[Event, Notification, Context], None]:
    def meaning(event: Event, notification: Notification, context: Context) -> None:
        event.name = "warmStart" if warm else "coldStart"
        event.text = context.t("设备重启" + ("(热启动)" if warm else ""), "device restarted" + (" (warm)" if warm else ""))

    return meaning


def _auth_failure(event: Event, notification: Notification, context: Context) -> None:
    event.name = "authenticationFailure"
    event.text = context.t("SNMP 认证失败(有人用错误的团体名或用户访问)", "SNMP authentication failure at the device")


def _ups_on_battery(event: Event, notification: Notification, context: Context) -> None:
    event.name, event.hint, event.subject = "upsTrapOnBattery", "down", "on_battery"
    event.metric, event.value, event.confirm = "on_battery", 1.0, False
    found = _find(notification, UPS_MINUTES_REMAINING)
    minutes = found[1] if found and isinstance(found[1], int) else None
    event.text = context.t(
        "UPS 市电中断, 电池供电" + (f", 预计剩余 {minutes} 分钟" if minutes is not None else ""),
        "UPS on battery (mains lost)" + (f", {minutes} min left" if minutes is not None else ""),
    )


def _ups_test(event: Event, notification: Notification, context: Context) -> None:
    event.name = "upsTrapTestCompleted"
    found = _find(notification, UPS_TEST_SUMMARY)
    code = found[1] if found and isinstance(found[1], int) else None
    zh, en = UPS_TEST_RESULTS.get(code or 0, ("完成", "completed"))
    event.text = context.t(f"UPS 自检{zh}", f"UPS self-test {en}")
    if code == 3:
        event.subject, event.hint = "self_test", "down"
        event.confirm = False


def _ups_alarm(added: bool) -> Callable[[Event, Notification, Context], None]:
    def meaning(event: Event, notification: Notification, context: Context) -> None:
        event.name = "upsTrapAlarmEntryAdded" if added else "upsTrapAlarmEntryRemoved"
        found = _find(notification, UPS_ALARM_DESCR)
        alarm_oid = found[1] if found and isinstance(found[1], tuple) else None
        alarm = "alarm"
        if alarm_oid and alarm_oid[: len(UPS_ALARMS)] == UPS_ALARMS and len(alarm_oid) > len(UPS_ALARMS):
            alarm = UPS_ALARM_NAMES.get(alarm_oid[len(UPS_ALARMS)], f"alarm {alarm_oid[len(UPS_ALARMS)]}")
        elif alarm_oid:
            alarm = format_oid(alarm_oid)
        zh, en = UPS_ALARM_TEXT.get(alarm, (f"UPS 告警 {alarm}", f"UPS alarm {alarm}"))
        event.subject, event.hint, event.confirm = alarm, "down" if added else "up", False
        metric = UPS_ALARM_METRICS.get(alarm)
        if metric:
            event.metric, event.value = metric, 1.0 if added else 0.0
        event.text = context.t(zh if added else f"{zh} 已解除", en if added else f"{en}: cleared")

    return meaning


def _entity(name: str, zh: str, en: str, hint: str | None, subject: str) -> Callable[[Event, Notification, Context], None]:
    def meaning(event: Event, notification: Notification, context: Context) -> None:
        part = _text_of(notification, ENT_PHYSICAL_NAME) or _text_of(notification, ENT_PHYSICAL_DESCR) or ""
        event.name, event.hint = name, hint  # type: ignore[assignment]
        event.subject = f"{subject} {part}".strip()
        event.confirm = False
        event.text = context.t(f"{part} {zh}".strip(), f"{part} {en}".strip())

    return meaning


SNMP_TRAPS = (1, 3, 6, 1, 6, 3, 1, 1, 5)
UPS_TRAPS = (1, 3, 6, 1, 2, 1, 33, 2)
HUAWEI_ENTITY = (1, 3, 6, 1, 4, 1, 2011, 5, 25, 219, 2)
HUAWEI_IF = (1, 3, 6, 1, 4, 1, 2011, 5, 25, 41, 3)  # HUAWEI-IF-EXT-MIB hwIfExtTraps
H3C_ENTITY = ((1, 3, 6, 1, 4, 1, 25506, 2, 6, 2, 0), (1, 3, 6, 1, 4, 1, 2011, 10, 2, 6, 2, 0))

BUILTIN: dict[Oid, Callable[[Event, Notification, Context], None]] = {
    (*SNMP_TRAPS, 1): _restart(False),
    (*SNMP_TRAPS, 2): _restart(True),
    (*SNMP_TRAPS, 3): _link(False),
    (*SNMP_TRAPS, 4): _link(True),
    (*SNMP_TRAPS, 5): _auth_failure,
    (*UPS_TRAPS, 1): _ups_on_battery,
    (*UPS_TRAPS, 2): _ups_test,
    (*UPS_TRAPS, 3): _ups_alarm(True),
    (*UPS_TRAPS, 4): _ups_alarm(False),
    (*HUAWEI_IF, 5): _link(False, "hwIfFlowDown"),
    (*HUAWEI_IF, 6): _link(True, "hwIfFlowUp"),
    (*HUAWEI_IF, 9): _link(False, "hwExtLinkDown"),
    (*HUAWEI_IF, 10): _link(True, "hwExtLinkUp"),
    (*HUAWEI_IF, 28): _link(False, "hwExtAllMemberDownNotify"),
    (*HUAWEI_IF, 29): _link(True, "hwExtAllMemberDownResume"),
    (*HUAWEI_ENTITY, 5, 3): _entity("hwPowerFail", "电源故障", "power supply failed", "down", "power"),
    (*HUAWEI_ENTITY, 5, 4): _entity("hwPowerFailResume", "电源故障恢复", "power supply recovered", "up", "power"),
    (*HUAWEI_ENTITY, 5, 1): _entity("hwPowerRemove", "电源被拔出", "power supply removed", "down", "power"),
    (*HUAWEI_ENTITY, 5, 2): _entity("hwPowerInsert", "电源已插入", "power supply inserted", "up", "power"),
    (*HUAWEI_ENTITY, 6, 3): _entity("hwFanFail", "风扇故障", "fan failed", "down", "fan"),
    (*HUAWEI_ENTITY, 6, 4): _entity("hwFanFailResume", "风扇故障恢复", "fan recovered", "up", "fan"),
    (*HUAWEI_ENTITY, 10, 1): _entity("hwTempAlarm", "温度越限", "temperature alarm", "down", "temperature"),
    (*HUAWEI_ENTITY, 10, 2): _entity("hwTempResume", "温度恢复正常", "temperature normal", "up", "temperature"),
}
for _prefix in H3C_ENTITY:
    BUILTIN.update(
        {
            (*_prefix, 16): _entity("hh3cEntityExtFaultAlarmOn", "硬件故障告警", "entity fault alarm", "down", "entity"),
            (*_prefix, 17): _entity("hh3cEntityExtFaultAlarmOff", "硬件故障恢复", "entity fault cleared", "up", "entity"),
            (*_prefix, 13): _entity("hh3cEntityRemove", "部件被拔出", "entity removed", "down", "slot"),
            (*_prefix, 12): _entity("hh3cEntityInsert", "部件已插入", "entity inserted", "up", "slot"),
            (*_prefix, 7): _entity("hh3cEntityExtOperDisabled", "部件不可用", "entity disabled", "down", "entity"),
            (*_prefix, 6): _entity("hh3cEntityExtOperEnabled", "部件恢复可用", "entity enabled", "up", "entity"),
        }
    )


def _matches(wanted: str, actual: str) -> bool:
    if len(wanted) > 1 and wanted.startswith("/") and wanted.endswith("/"):
        return re.search(wanted[1:-1], actual) is not None
    return wanted == actual


def rule_applies(rule: TrapRule, trap_oid: str, varbinds: dict[str, str], device: str | None) -> bool:
    if rule.oid != trap_oid or (rule.devices and device not in rule.devices):
        return False
    for oid, wanted in rule.when.items():
        values = [v for k, v in varbinds.items() if k == oid or k.startswith(oid + ".")]
        if not any(_matches(wanted, value) for value in values):
            return False
    return True


def _fill(template: str, values: list[str]) -> str:
    if "{" not in template:
        return template
    try:
        return template.format("", *values)
    except (IndexError, KeyError, ValueError):
        return template


def interpret(
    notification: Notification, source: str, device: str | None, at: float, rules: list[TrapRule], context: Context
) -> Event:
    """The event of one notification: a config rule's meaning, else the built-in one, else none."""
    trap_oid = oid_text(notification.trap_oid)
    varbinds = {oid_text(vb.oid): value_text(vb) for vb in notification.varbinds}
    event = Event("trap", source, at, trap_oid, device=device, oid=trap_oid, varbinds=varbinds)
    for rule in rules:
        if rule_applies(rule, trap_oid, varbinds, device):
            values = list(varbinds.values())
            event.name, event.hint, event.level, event.confirm = rule.name, rule.hint, rule.level, rule.confirm
            event.subject, event.text = _fill(rule.subject, values), _fill(rule.text, values) or rule.name
            event.metric, event.value = rule.metric, rule.value
            return event
    builtin = BUILTIN.get(notification.trap_oid)
    if builtin is not None:
        builtin(event, notification, context)
    return event
