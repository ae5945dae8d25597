"""``yunwei status``: devices by unit/group, up/down since when, last RTT, group online rates."""

from __future__ import annotations

import argparse
import time

from agent.cli import add_config_argument
from agent.commands.events import recent_lines
from agent.status import StatusFilter, render_status
from agent.store import open_store
from core.errors import InputError
from inventory.config import load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="show devices' current state and group online rates")
    add_config_argument(parser)
    parser.add_argument("--problems", action="store_true", help="list only devices that are not up")
    parser.add_argument("--unit", help="list only this unit's devices (its id)")
    parser.add_argument("--group", help="list only this group's devices (its id)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inventory = load_config(args.config)
    for option, value, known in (("--unit", args.unit, inventory.units), ("--group", args.group, inventory.groups)):
        if value is not None and value not in known:
            raise InputError.single(
                "command line", f"unknown {option[2:]} {value!r} (known: {', '.join(sorted(known)) or 'none'})", field=option
            )
    only = StatusFilter(problems_only=args.problems, unit=args.unit, group=args.group)
    with open_store(inventory.data_dir) as store:
        print(render_status(inventory, store, only=only))
        if inventory.config.traps.enabled or inventory.config.syslog.enabled:
            print("\n".join(["", *recent_lines(store, inventory, time.time())]))
    return 0
