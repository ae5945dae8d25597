"""``yunwei status``: devices by unit/group, up/down since when, last RTT, group online rates."""

from __future__ import annotations

import argparse
import time
from typing import Any

from agent.status import StatusFilter, render_status
from cli.commands.events import recent_lines
from cli.main import add_config_argument, command_help
from cli.readonly import config_for_reading
from inventory.lookup import named_items, resolve_ref
from store.db import Store, open_store
from store.events import EventLog


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
        if _receiving(inventory, store):
            print("\n".join(["", *recent_lines(store, inventory, time.time())]))
    return 0


def _receiving(inventory: Any, store: Store) -> bool:
    """Whether to show the traps/syslog lines: the config's receivers are on, or (the read-only
    config view does not carry plugin sections) the store holds events of the last day."""
    config = getattr(inventory, "config", None)
    if config is not None:
        return bool(config.traps.enabled or config.syslog.enabled)
    return EventLog(store).count(time.time() - 86400) > 0
