"""``yunwei faults list|show|ack|resolve|note|open|outbox``: the fault ledger from the command line.

``list`` (here) reads the config's view (cli.readonly) and starts fast; the other actions
(cli.commands.faults_act) load the config in full and are imported only when they run.

Safe while the daemon runs: every change is one SQLite transaction on the re-read fault row,
and the chat message it causes is queued for the daemon to send on its next tick.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.status import format_table
from agent.status_text import text
from alerting.messages import subject
from cli.main import add_config_argument, command_help, later
from cli.readonly import config_for_reading
from collectors.texts import localise_error
from core.errors import InputError
from inventory.lookup import named_items, resolve_ref
from store.db import open_store
from store.faults import Fault, FaultStore, ledger_body

STATES = ("open", "acknowledged", "resolved", "closed")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("faults", help=command_help("faults"))
    commands = parser.add_subparsers(dest="faults_command", metavar="ACTION", required=True)

    listing = commands.add_parser("list", help="faults (default: the ones not resolved yet)")
    add_config_argument(listing)
    listing.add_argument("--state", choices=STATES, action="append", help="only these states (repeatable)")
    listing.add_argument("--all", action="store_true", help="every state")
    listing.add_argument("--days", type=float, default=31.0, help="opened within this many days (default 31)")
    listing.add_argument("--json", action="store_true", help="ledger JSON, one fault per line")
    for option in ("device", "group", "system", "unit"):
        listing.add_argument(f"--{option}", help=f"only faults of this {option} (its id or name)")
    listing.set_defaults(func=run_list)

    show = commands.add_parser("show", help="one fault with its history")
    add_config_argument(show)
    show.add_argument("fault", help="fault id (F-20261103-0017) or number (17)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=later("cli.commands.faults_act", "run_show"))

    for name, help_text in (("ack", "acknowledge (the contract's response)"), ("resolve", "resolve by hand")):
        action = commands.add_parser(name, help=help_text)
        add_config_argument(action)
        action.add_argument("fault", nargs="*", help="fault ids or numbers (6 7 8)")
        action.add_argument("--group", help="every active fault of this group (id or name)")
        action.add_argument("--by", help="the engineer's name (default: $YUNWEI_USER, else alerting.engineer)")
        action.add_argument("--note", help="a remark kept with the fault and posted with the message")
        action.set_defaults(func=later("cli.commands.faults_act", f"run_{name}"))

    note = commands.add_parser("note", help="add a note; --close closes a resolved fault with it")
    add_config_argument(note)
    note.add_argument("fault")
    note.add_argument("text")
    note.add_argument("--by")
    note.add_argument("--close", action="store_true", help="close the (resolved) fault with this note")
    note.set_defaults(func=later("cli.commands.faults_act", "run_note"))

    opened = commands.add_parser("open", help="open a work order, e.g. a user problem reported by phone")
    add_config_argument(opened)
    opened.add_argument("--level", type=int, required=True, choices=(1, 2, 3, 4))
    opened.add_argument("--cause", required=True, help="what is wrong, in the user's words")
    opened.add_argument("--device")
    opened.add_argument("--group")
    opened.add_argument("--system")
    opened.add_argument("--unit")
    opened.add_argument("--by")
    opened.set_defaults(func=later("cli.commands.faults_act", "run_open"))

    outbox = commands.add_parser("outbox", help="chat messages waiting to be sent (and why)")
    add_config_argument(outbox)
    outbox.add_argument("--all", action="store_true", help="also the sent ones")
    outbox.set_defaults(func=later("cli.commands.faults_act", "run_outbox"))


def _when(epoch: float | None, zone: ZoneInfo) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, zone).strftime("%m-%d %H:%M")


def _deadline(fault: Fault, deadline: float, met: float | None, now: float, zone: ZoneInfo, language: str = "en") -> str:
    shown = _when(deadline, zone)
    moment = met if met is not None else (now if fault.active else None)
    if moment is not None and moment > deadline:
        shown += " " + text("late", language)
    return shown


def run_list(args: argparse.Namespace) -> int:
    if not args.days > 0:
        raise InputError.single("yunwei faults list", f"--days {args.days:g}: give a number of days greater than 0")
    inventory = config_for_reading(args.config)
    faults = FaultStore(open_store(inventory.data_dir), inventory.agent.id, inventory.agent.timezone)
    states = None if args.all else (args.state or ["open", "acknowledged"])
    found = faults.listing(states, since=time.time() - args.days * 86400, limit=1000)
    for option in ("device", "group", "system", "unit"):
        wanted = getattr(args, option)
        if wanted is not None:
            wanted = resolve_ref(named_items(inventory, option), option, wanted, f"--{option}")
            found = [f for f in found if getattr(f, option) == wanted or (option == "device" and wanted in f.affected)]
    if args.json:
        for fault in found:
            print(json.dumps(ledger_body(fault, faults.timezone), ensure_ascii=False))
        return 0
    zone = ZoneInfo(inventory.agent.timezone)
    language = inventory.agent.language
    now = time.time()
    rows = []
    for fault in found:
        rows.append(
            [
                fault.id,
                str(fault.level),
                text(fault.state, language) + (f" ({fault.waived})" if fault.waived else ""),
                subject(fault, inventory)[:40],
                localise_error(fault.cause, language)[:40],
                _when(fault.opened, zone),
                _deadline(fault, fault.respond_by, fault.acknowledged, now, zone, language),
                _deadline(fault, fault.resolve_by, fault.resolved, now, zone, language),
                fault.acknowledged_by or "-",
            ]
        )
    if not rows:
        print("no faults" + ("" if args.all else " open (use --all for resolved ones)"))
        return 0
    keys = ("fault", "level", "state", "object", "cause", "opened", "respond by", "resolve by", "ack by")
    print(format_table([text(key, language) for key in keys], rows))
    return 0
