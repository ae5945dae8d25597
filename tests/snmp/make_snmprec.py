"""Writes tests/data/*.snmprec, the snmpsim agents of tests/snmp (run by hand after a change).

``python tests/snmp/make_snmprec.py`` — the files are committed; the comments here say what
each agent is for. snmpsim serves a file under the community of its name.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
Row = tuple[str, int, object]
UPS = "1.3.6.1.2.1.33.1"
MIB2 = "1.3.6.1.2.1"


def system(name: str, descr: str, uptime: int, object_id: str) -> list[Row]:
    return [
        (f"{MIB2}.1.1.0", 4, descr),
        (f"{MIB2}.1.2.0", 6, object_id),
        (f"{MIB2}.1.3.0", 67, uptime),
        (f"{MIB2}.1.5.0", 4, name),
    ]


def write(name: str, rows: list[Row]) -> None:
    rows = sorted(rows, key=lambda row: tuple(int(arc) for arc in row[0].split(".")))
    (DATA / f"{name}.snmprec").write_text("".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in rows))


def ups(name: str, source: int, battery: int, seconds: int, minutes: int, charge: int, load: int,
        alarms: tuple[int, ...] = (), input_voltage: int = 220) -> None:
    rows = system(name, "Simulated online UPS, UPS-MIB RFC 1628", 8640000, "1.3.6.1.4.1.935.10")
    rows += [
        (f"{UPS}.1.1.0", 4, "Sim Power"),
        (f"{UPS}.1.2.0", 4, "SIM-3000VA"),
        (f"{UPS}.2.1.0", 2, battery),  # upsBatteryStatus 2 normal 3 low 4 depleted
        (f"{UPS}.2.2.0", 2, seconds),  # upsSecondsOnBattery
        (f"{UPS}.2.3.0", 2, minutes),  # upsEstimatedMinutesRemaining
        (f"{UPS}.2.4.0", 2, charge),  # upsEstimatedChargeRemaining
        (f"{UPS}.2.7.0", 2, 27),  # upsBatteryTemperature
        (f"{UPS}.3.3.1.3.1", 2, input_voltage),
        (f"{UPS}.4.1.0", 2, source),  # upsOutputSource 3 normal 5 battery
        (f"{UPS}.4.4.1.2.1", 2, 220),
        (f"{UPS}.4.4.1.5.1", 2, load),
        (f"{UPS}.6.1.0", 66, len(alarms)),  # upsAlarmsPresent
    ]
    for row, alarm in enumerate(alarms, 1):
        rows += [(f"{UPS}.6.2.1.2.{row}", 6, f"{UPS}.6.3.{alarm}"), (f"{UPS}.6.2.1.3.{row}", 67, 1000)]
    write(name, rows)


def switch(name: str, uptime: int, hc_in: list[int], hc_out: list[int],
           replace: dict[str, tuple[int, object]] | None = None, drop: frozenset[str] = frozenset()) -> None:
    names = ["GigabitEthernet0/0/1", "GigabitEthernet0/0/2", "Vlanif100"]
    aliases = ["uplink-to-core", "", "management"]
    rows = system(name, "Huawei Versatile Routing Platform Software (simulated S5735)", uptime, "1.3.6.1.4.1.2011.2.23.619")
    for i, if_name in enumerate(names, 1):
        rows += [
            (f"{MIB2}.2.2.1.2.{i}", 4, if_name),
            (f"{MIB2}.2.2.1.5.{i}", 66, 1000000000),
            (f"{MIB2}.2.2.1.7.{i}", 2, 1),
            (f"{MIB2}.2.2.1.8.{i}", 2, 2 if i == 2 else 1),  # Gi0/0/2 is admin up, oper down
            (f"{MIB2}.2.2.1.13.{i}", 65, 0),
            (f"{MIB2}.2.2.1.14.{i}", 65, 3 * i),
            (f"{MIB2}.2.2.1.19.{i}", 65, 0),
            (f"{MIB2}.2.2.1.20.{i}", 65, 0),
            (f"{MIB2}.31.1.1.1.1.{i}", 4, if_name),
            (f"{MIB2}.31.1.1.1.6.{i}", 70, hc_in[i - 1]),
            (f"{MIB2}.31.1.1.1.10.{i}", 70, hc_out[i - 1]),
            (f"{MIB2}.31.1.1.1.15.{i}", 66, 1000),
            (f"{MIB2}.31.1.1.1.18.{i}", 4, aliases[i - 1]),
        ]
    rows = [row for row in rows if row[0] not in drop and row[0] not in (replace or {})]
    rows += [(oid, tag, value) for oid, (tag, value) in (replace or {}).items()]
    write(name, rows)


def main() -> None:
    ups("ups-online", source=3, battery=2, seconds=0, minutes=240, charge=100, load=35)
    ups("ups-on-battery", source=5, battery=2, seconds=125, minutes=200, charge=90, load=35, alarms=(2,), input_voltage=0)
    ups("ups-low-battery", source=5, battery=3, seconds=1500, minutes=4, charge=9, load=35, alarms=(2, 3), input_voltage=0)
    ups("ups-runtime-short", source=3, battery=2, seconds=0, minutes=95, charge=100, load=60)
    ups("ups-faults", source=3, battery=2, seconds=0, minutes=150, charge=100, load=112, alarms=(1, 8))
    # Three consecutive rounds of one switch, 60 s apart on the test's clock:
    # 1: uptime 2^32 - 296 ticks; Gi0/0/1 in-counter 1,000 below the 64-bit top;
    switch("switch-round1", 4294967000, [2**64 - 1000, 10, 0], [1_000_000, 10, 0])
    # 2: uptime wrapped (497 days) to 5,704 ticks: not a reboot; counters +75,000 / +750,000 bytes;
    switch("switch-round2", 5704, [74_000, 10, 0], [1_750_000, 10, 0])
    # 3: uptime 30 s: rebooted; counters restarted from zero.
    switch("switch-round3", 3000, [500, 0, 0], [800, 0, 0])
    # Wrong type (Gi0/0/2's ifHCInOctets is a string), a truncated table (no ifHCOutOctets and
    # no ifInErrors for Vlanif100) and a vendor CPU OID that holds text.
    switch(
        "switch-broken",
        100000,
        [1000, 2000, 3000],
        [1000, 2000, 3000],
        replace={f"{MIB2}.31.1.1.1.6.2": (4, "not-a-counter"), "1.3.6.1.4.1.2011.6.3.4.1.2.0": (4, "high")},
        drop=frozenset({f"{MIB2}.31.1.1.1.10.3", f"{MIB2}.2.2.1.14.3"}),
    )


if __name__ == "__main__":
    main()
