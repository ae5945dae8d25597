"""``yunwei status``: devices by unit/group, up/down since when, last RTT, group online rates."""

from __future__ import annotations

import argparse

from agent.cli import add_config_argument
from agent.status import render_status
from agent.store import open_store
from inventory.config import load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="show devices' current state and group online rates")
    add_config_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inventory = load_config(args.config)
    with open_store(inventory.data_dir) as store:
        print(render_status(inventory, store))
    return 0
