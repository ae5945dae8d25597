"""Where the config and a contract file say different things about the same group.

A group's ``online_rate.threshold`` in the config drives the live status and the alerts; the
contract's online group threshold drives the monthly report. When both are given for the same
group and differ (0.90 here, 0.95 there), the engineer sees one figure all month and the
customer another: ``yunwei check`` warns, naming both places.
"""

from __future__ import annotations

from compliance.contract import Contract
from inventory.config import Inventory
from inventory.yamlsource import load_yaml


def threshold_disagreements(inventory: Inventory, contracts: list[tuple[str, str, Contract]]) -> list[str]:
    """One warning line per (config group, contract group) whose thresholds differ."""
    group_index = {group.id: index for index, group in enumerate(inventory.config.groups)}
    config_lines = load_yaml(inventory.source) if inventory.source not in ("", "<defaults>") else None
    warnings = []
    for _ref, where, contract in contracts:
        contract_lines = load_yaml(where) if where != "inline" else None
        for position, online in enumerate(contract.online_rate.groups):
            if online.threshold is None:
                continue
            for group_id in online.members.groups:
                group = inventory.groups.get(group_id)
                if group is None or group.online_rate is None or abs(group.online_rate.threshold - online.threshold) < 1e-12:
                    continue
                mine = ["groups", group_index[group_id], "online_rate", "threshold"]
                theirs = ["online_rate", "groups", position, "threshold"]
                here = _place(inventory.source, config_lines.line_of(mine) if config_lines else None, mine)
                there = _place(where, contract_lines.line_of(theirs) if contract_lines else None, theirs)
                warnings.append(
                    f"{here}: group {group_id!r} threshold {group.online_rate.threshold:g} here but {online.threshold:g} in"
                    f" {there} (contract group {online.id!r}): the live status and alerts use {group.online_rate.threshold:.0%},"
                    f" the monthly report {online.threshold:.0%}"
                )
    return warnings


def _place(file: str, line: int | None, path: list[str | int]) -> str:
    return f"{file}:{line}: {'.'.join(map(str, path))}" if line is not None else f"{file}: {'.'.join(map(str, path))}"
