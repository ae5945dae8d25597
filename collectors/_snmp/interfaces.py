"""IF-MIB interfaces of a device: the table read by name (ifDescr, ifName, ifAlias walked
together), the interfaces a config's selectors choose, their labels and metric keys, and the
columns polled for each (64-bit ``ifHC*`` counters, or the 32-bit ones when the device has none).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from collectors._snmp import ber, oids
from collectors._snmp.session import Session, walk_columns
from collectors._snmp.varbinds import text

OPER_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}


@dataclass
class Interface:
    index: int
    name: str
    descr: str
    alias: str

    @property
    def label(self) -> str:
        return self.name or self.descr or f"ifIndex{self.index}"


async def read_interfaces(session: Session, max_repetitions: int) -> tuple[list[Interface], list[str]]:
    """Walk ifDescr, ifName and ifAlias together: the device's interfaces by index."""
    rows, problems = await walk_columns(session, [oids.IF_DESCR, oids.IF_NAME, oids.IF_ALIAS], max_repetitions)
    found: dict[int, Interface] = {}
    for root, attribute in ((oids.IF_DESCR, "descr"), (oids.IF_NAME, "name"), (oids.IF_ALIAS, "alias")):
        for varbind in rows[root]:
            if len(varbind.oid) != len(root) + 1:
                continue
            index = varbind.oid[-1]
            interface = found.setdefault(index, Interface(index, "", "", ""))
            if varbind.tag != ber.OCTET_STRING:
                problems.append(f"{ber.format_oid(varbind.oid)}: expected OCTET STRING, got {varbind.type_name}")
                continue
            setattr(interface, attribute, text(varbind.value))
    if not found:
        problems.append("the device lists no interfaces (IF-MIB ifTable empty or not readable)")
    return [found[i] for i in sorted(found)], problems


def select_interfaces(
    interfaces: Sequence[Interface], selectors: Sequence[str | int]
) -> tuple[list[Interface], list[str]]:
    """The interfaces the selectors name, in selector order, and selectors that matched nothing."""
    chosen: dict[int, Interface] = {}
    unmatched: list[str] = []
    for selector in selectors:
        matches: list[Interface]
        if isinstance(selector, int) or (isinstance(selector, str) and selector.isdigit()):
            matches = [i for i in interfaces if i.index == int(selector)]
        elif selector.lower() in ("all", "*"):
            matches = list(interfaces)
        else:
            matches = [i for i in interfaces if selector in (i.name, i.descr, i.alias)]
            if not matches:
                lowered = selector.lower()
                matches = [i for i in interfaces if lowered in (i.name.lower(), i.descr.lower(), i.alias.lower())]
            if not matches and any(ch in selector for ch in "*?["):
                matches = [
                    i for i in interfaces if any(fnmatch.fnmatchcase(v, selector) for v in (i.name, i.descr, i.alias) if v)
                ]
        if not matches:
            unmatched.append(str(selector))
        for interface in matches:
            chosen.setdefault(interface.index, interface)
    return list(chosen.values()), unmatched


def unique_labels(interfaces: Sequence[Interface]) -> dict[int, str]:
    labels: dict[int, str] = {}
    seen: dict[str, int] = {}
    for interface in interfaces:
        label = interface.label
        if label in seen:
            label = f"{label}#{interface.index}"
        seen[label] = interface.index
        labels[interface.index] = label
    return labels


HC_COLUMNS = (
    ("admin", oids.IF_ADMIN_STATUS),
    ("oper", oids.IF_OPER_STATUS),
    ("speed", oids.IF_HIGH_SPEED),
    ("in", oids.IF_HC_IN_OCTETS),
    ("out", oids.IF_HC_OUT_OCTETS),
    ("in_errors", oids.IF_IN_ERRORS),
    ("out_errors", oids.IF_OUT_ERRORS),
    ("in_discards", oids.IF_IN_DISCARDS),
    ("out_discards", oids.IF_OUT_DISCARDS),
)
COLUMNS_32 = (
    ("admin", oids.IF_ADMIN_STATUS),
    ("oper", oids.IF_OPER_STATUS),
    ("speed", oids.IF_SPEED),
    ("in", oids.IF_IN_OCTETS),
    ("out", oids.IF_OUT_OCTETS),
    ("in_errors", oids.IF_IN_ERRORS),
    ("out_errors", oids.IF_OUT_ERRORS),
    ("in_discards", oids.IF_IN_DISCARDS),
    ("out_discards", oids.IF_OUT_DISCARDS),
)


@lru_cache(maxsize=65536)
def interface_keys(label: str) -> dict[str, str]:
    """The metric and info keys of one interface, made once per label."""
    prefix = f"if.{label}"
    names = (
        "admin_up", "oper_up", "status", "speed_bps", "in", "out", "in_bps", "out_bps", "in_util_percent",
        "out_util_percent", "in_errors", "out_errors", "in_discards", "out_discards",
    )
    return {"prefix": prefix, **{name: f"{prefix}.{name}" for name in names}}
