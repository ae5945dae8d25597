"""Numeric OIDs of the standard MIBs yunwei reads (Debian ships no MIB files: no names needed)."""

from __future__ import annotations

from collectors._snmp.ber import Oid

# SNMPv2-MIB system group
SYS_DESCR: Oid = (1, 3, 6, 1, 2, 1, 1, 1, 0)
SYS_OBJECT_ID: Oid = (1, 3, 6, 1, 2, 1, 1, 2, 0)
SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SYS_NAME: Oid = (1, 3, 6, 1, 2, 1, 1, 5, 0)
SYSTEM = (SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME)

IF_NUMBER: Oid = (1, 3, 6, 1, 2, 1, 2, 1, 0)

# IF-MIB columns (append the ifIndex)
IF_DESCR: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
IF_SPEED: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 5)
IF_ADMIN_STATUS: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 7)
IF_OPER_STATUS: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 8)
IF_IN_OCTETS: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 10)
IF_IN_DISCARDS: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 13)
IF_IN_ERRORS: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 14)
IF_OUT_OCTETS: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 16)
IF_OUT_DISCARDS: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 19)
IF_OUT_ERRORS: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 20)
IF_NAME: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
IF_HC_IN_OCTETS: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6)
IF_HC_OUT_OCTETS: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10)
IF_HIGH_SPEED: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15)
IF_ALIAS: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18)

# UPS-MIB (RFC 1628), scalars
UPS = (1, 3, 6, 1, 2, 1, 33, 1)
UPS_BATTERY_STATUS: Oid = (*UPS, 2, 1, 0)  # 1 unknown, 2 normal, 3 low, 4 depleted
UPS_SECONDS_ON_BATTERY: Oid = (*UPS, 2, 2, 0)
UPS_MINUTES_REMAINING: Oid = (*UPS, 2, 3, 0)
UPS_CHARGE_REMAINING: Oid = (*UPS, 2, 4, 0)  # percent
UPS_BATTERY_TEMPERATURE: Oid = (*UPS, 2, 7, 0)  # degrees Celsius
UPS_INPUT_VOLTAGE_1: Oid = (*UPS, 3, 3, 1, 3, 1)  # upsInputVoltage.1, RMS volts
UPS_OUTPUT_SOURCE: Oid = (*UPS, 4, 1, 0)  # 3 normal, 5 battery, 4 bypass, ...
UPS_OUTPUT_VOLTAGE_1: Oid = (*UPS, 4, 4, 1, 2, 1)
UPS_OUTPUT_LOAD_1: Oid = (*UPS, 4, 4, 1, 5, 1)  # percent
UPS_ALARMS_PRESENT: Oid = (*UPS, 6, 1, 0)
UPS_ALARM_DESCR: Oid = (*UPS, 6, 2, 1, 2)  # column: OBJECT IDENTIFIER of the well-known alarm
UPS_IDENT_MODEL: Oid = (*UPS, 1, 2, 0)
UPS_IDENT_MANUFACTURER: Oid = (*UPS, 1, 1, 0)

# upsWellKnownAlarms (1.3.6.1.2.1.33.1.6.3.N)
UPS_ALARMS = (1, 3, 6, 1, 2, 1, 33, 1, 6, 3)
UPS_ALARM_NAMES = {
    1: "battery_bad",
    2: "on_battery",
    3: "low_battery",
    4: "depleted_battery",
    5: "temperature_bad",
    6: "input_bad",
    7: "output_bad",
    8: "output_overload",
    9: "on_bypass",
    10: "bypass_bad",
    11: "output_off_as_requested",
    12: "ups_off_as_requested",
    13: "charger_failed",
    14: "ups_output_off",
    15: "ups_system_off",
    16: "fan_failure",
    17: "fuse_failure",
    18: "general_fault",
    19: "diagnostic_test_failed",
    20: "communications_lost",
    21: "awaiting_power",
    22: "shutdown_pending",
    23: "shutdown_imminent",
    24: "test_in_progress",
}
