"""Finding a unit, system, group or device the user named on the command line.

Engineers type what they see: ``--device 天眼-03`` (a name) as often as ``--device tianyan-003``
(an id), ``--unit 市公安局`` as often as ``--unit gaj``. An id matches first, then a name that
only one item has; a miss is an InputError that suggests the nearest ids and names, so a typo
(``--system dsjj-rom``) is refused at once instead of being stored as a record nobody counts.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import InputError

WHERE = "command line"


def named_items(inventory: Any, what: str) -> dict[str, str]:
    """id → name of the inventory's units, systems, groups or devices."""
    section: Mapping[str, Any] = getattr(inventory, f"{what}s")
    return {item_id: str(getattr(item, "name", "") or "") for item_id, item in section.items()}


def resolve_ref(items: Mapping[str, str], what: str, value: str, option: str) -> str:
    """The id for ``value`` (an id or a unique name) among ``items`` (id → name)."""
    wanted = value.strip()
    if wanted in items:
        return wanted
    by_name = [item_id for item_id, name in items.items() if name and name.strip() == wanted]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise InputError.single(
            WHERE, f"{len(by_name)} {what}s are called {wanted!r} ({', '.join(sorted(by_name))}): give the id", field=option
        )
    raise InputError.single(WHERE, f"unknown {what} {wanted!r}{hint(wanted, items)}", field=option)


def hint(value: str, items: Mapping[str, str]) -> str:
    """``: did you mean 'dsjj-room' (数据机房)?``, or the known ids when there are few."""
    labels = {item_id: item_id for item_id in items} | {name: item_id for item_id, name in items.items() if name}
    close = difflib.get_close_matches(value, list(labels), n=3, cutoff=0.6)
    ids = list(dict.fromkeys(labels[c] for c in close))
    if ids:
        shown = ", ".join(f"{i!r} ({items[i]})" if items[i] and items[i] != i else repr(i) for i in ids)
        return f": did you mean {shown}?"
    if not items:
        return " (none is configured)"
    if len(items) <= 12:
        return f" (known: {', '.join(sorted(items))})"
    return f" (see `yunwei status` for the {len(items)} known)"


def merged(*sources: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Several id → name sources as one (the inventory's and the contracts' units)."""
    result: dict[str, str] = {}
    for source in sources:
        for item_id, name in source:
            result.setdefault(item_id, name)
    return result


def did_you_mean(word: str, choices: list[str]) -> str:
    """``: did you mean 'timeout'?`` for a misspelt option, or nothing."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f": did you mean {close[0]!r}?" if close else ""


def device_or_group(inventory: Any, value: str, option: str) -> str:
    """The id of the device or group ``value`` names (by id, or a name only one of them has)."""
    items = merged(named_items(inventory, "device").items(), named_items(inventory, "group").items())
    return resolve_ref(items, "device or group", value, option)
