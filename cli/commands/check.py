"""``yunwei check``: validate the config and inventory; exit 2 with every problem listed."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from cli.main import add_config_argument, command_help
from core.errors import InputError
from inventory.snapshot import load_and_remember


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check", help=command_help("check"))
    add_config_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inventory = load_and_remember(args.config)  # and keep its view for status, faults list
    from compliance.resolve import load_configured

    contracts, problems = load_configured(inventory)  # contract files named by contracts: too
    if problems:
        raise InputError(problems)
    kinds = Counter(d.kind for d in inventory.devices.values())
    probes = Counter(p.collector for d in inventory.devices.values() for p in d.probes.values())
    print(f"{args.config}: OK")
    print(f"  {len(inventory.devices)} devices ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    print(f"  {len(inventory.units)} units, {len(inventory.systems)} systems, {len(inventory.groups)} groups")
    print(f"  probes: {', '.join(f'{k} {n}' for k, n in sorted(probes.items())) or 'none'}")
    if contracts:
        print(f"  contracts: {', '.join(ref_id for ref_id, _, _ in contracts)}")
    from compliance.consistency import threshold_disagreements

    for warning in threshold_disagreements(inventory, contracts):
        print(f"yunwei: warning: {warning}", file=sys.stderr)
    return 0
