"""``yunwei audit list|verify``: the tamper-evident audit trail of what users do on the console and
what engineers change from the command line (``from`` says the browser's address, or ``cli (login)``)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.status import format_table
from cli.main import add_config_argument, command_help
from inventory.config import load_config
from store.audit import AuditTrail
from store.db import open_store
from web import audit


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help=command_help("audit"))
    commands = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = commands.add_parser("verify", help="check the hash chain; exit 1 and name the entry where it breaks")
    add_config_argument(verify)
    verify.set_defaults(func=run_verify)
    listing = commands.add_parser("list", help="the latest entries")
    add_config_argument(listing)
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=run_list)


def run_verify(args: argparse.Namespace) -> int:
    inventory = load_config(args.config)
    with open_store(inventory.data_dir) as store:
        verdict = audit.verify(AuditTrail(store))
    if verdict.ok:
        print(f"audit chain intact: {verdict.entries} entries")
        return 0
    print(f"audit chain BROKEN at entry {verdict.broken_at}: {verdict.reason}")
    return 1


def run_list(args: argparse.Namespace) -> int:
    inventory = load_config(args.config)
    zone = ZoneInfo(inventory.agent.timezone)
    with open_store(inventory.data_dir) as store:
        found = audit.entries(AuditTrail(store), limit=args.limit)
    rows = [
        [str(e.id), datetime.fromtimestamp(e.at, zone).strftime("%m-%d %H:%M:%S"), e.actor, e.origin, e.action, e.target,
         json.dumps(e.remarks, ensure_ascii=False)[:60] if e.remarks else ""]
        for e in found
    ]
    print(format_table(["id", "at", "who", "from", "action", "target", "detail"], rows) if rows else "no audit entries yet")
    return 0
