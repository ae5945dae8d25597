"""``yunwei meeting check GROUP|--venues a,b,c``: is every venue ready for the meeting, now?"""

from __future__ import annotations

import argparse
import asyncio
import json

from cli.main import add_config_argument, command_help
from core.errors import InputError
from inventory.lookup import device_or_group


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("meeting", help=command_help("meeting"))
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="probe the venues now and print a readiness table (exit 0 when all are ready, 1 otherwise)",
        description="Venues are terminals (device ids) or groups of terminals; a terminal's camera/MCU "
        "(attrs camera, mcu, related) and its child devices are checked with it.",
    )
    add_config_argument(check)
    check.add_argument("names", nargs="*", metavar="GROUP|DEVICE", help="groups or terminals to check")
    check.add_argument("--venues", help="comma-separated terminal or group ids")
    check.add_argument("--meeting", help="use the venues and limits of this configured meeting (by name)")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    from agent.meetings import check_venues, render_table, resolve_venues
    from inventory.config import load_config

    inventory = load_config(args.config)
    names = list(args.names) + [v.strip() for v in (args.venues or "").split(",") if v.strip()]
    meeting = None
    if args.meeting:
        matches = [m for m in inventory.config.meetings if m.name == args.meeting]
        if not matches:
            known = ", ".join(m.name for m in inventory.config.meetings if m.name) or "none"
            raise InputError.single("command line", f"no meeting named {args.meeting!r} (configured: {known})", field="--meeting")
        meeting = matches[0]
        names += meeting.venues
    if not names:
        raise InputError.single("command line", "name the venues: GROUP, DEVICE ..., --venues a,b,c or --meeting NAME")
    venues = resolve_venues(inventory, [device_or_group(inventory, name, "venue") for name in names])
    results = asyncio.run(check_venues(inventory, venues, meeting))
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        print(render_table(results, inventory.agent.language))
    return 0 if all(r.ready for r in results) else 1
