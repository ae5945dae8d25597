"""``yunwei status``: devices by unit/group, up/down since when, last RTT, group online rates."""

from __future__ import annotations

import argparse
import time

from agent.status import StatusFilter, render_status
from cli.commands.events import recent_lines
from cli.main import add_config_argument, command_help
from cli.readonly import config_for_reading
from inventory.lookup import named_items, resolve_ref
from store.db import open_store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help=command_help("status"))
    add_config_argument(parser)
    parser.add_argument("--problems", action="store_true", help="list only devices that are not up")
    parser.add_argument("--unit", help="list only this unit's devices (its id or name)")
    parser.add_argument("--group", help="list only this group's devices (its id or name)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inventory = config_for_reading(args.config)
    if args.unit is not None:
        args.unit = resolve_ref(named_items(inventory, "unit"), "unit", args.unit, "--unit")
    if args.group is not None:
        args.group = resolve_ref(named_items(inventory, "group"), "group", args.group, "--group")
    only = StatusFilter(problems_only=args.problems, unit=args.unit, group=args.group)
    with open_store(inventory.data_dir) as store:
        print(render_status(inventory, store, only=only))
        if inventory.config.traps.enabled or inventory.config.syslog.enabled:
            print("\n".join(["", *recent_lines(store, inventory, time.time())]))
    return 0
