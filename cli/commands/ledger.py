"""``yunwei ledger import FILE`` / ``yunwei ledger export --from --to [-o FILE]``: the ledger as JSON Lines.

Import checks every line first and writes nothing when one is bad (the error names the line
and field, exit 2); importing the same file again adds nothing. Export writes canonical
lines sorted by time; export → import → export gives the same bytes.
"""

from __future__ import annotations

import argparse
import sys

from cli.main import add_config_argument, command_help
from core.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ledger", help=command_help("ledger"))
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    importer = actions.add_parser("import", help="import a JSON-Lines ledger file into the store (idempotent)")
    add_config_argument(importer)
    importer.add_argument("file", help="FILE.jsonl, one event per line")
    importer.add_argument("--agent", help="agent id for lines without an agent field (default: this agent's id)")
    importer.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    importer.set_defaults(func=run_import)
    exporter = actions.add_parser("export", help="write the ledger of a time range as JSON Lines")
    add_config_argument(exporter)
    exporter.add_argument("--from", dest="start", help="start (2026-11-01, 2026-11-01 08:00 or ISO with offset)")
    exporter.add_argument("--to", dest="end", help="end, exclusive (same forms)")
    exporter.add_argument("-o", "--output", help="output file (default: standard output)")
    exporter.set_defaults(func=run_export)


def run_import(args: argparse.Namespace) -> int:
    from cli import audited
    from compliance.ledgerio import import_ledger, read_ledger_file
    from inventory.config import load_config
    from store.db import open_store

    inventory = load_config(args.config)
    parsed = read_ledger_file(args.file, default_agent=args.agent if args.agent is not None else inventory.agent.id)
    if args.dry_run:
        print(f"{args.file}: {len(parsed.lines)} lines OK (dry run, nothing written)")
        return 0
    with open_store(inventory.data_dir) as store:
        summary = import_ledger(store, parsed)
        if summary.added or summary.updated:
            audited.record(store, audited.operator(), "ledger.import", args.file,
                           added=sum(summary.added.values()), updated=sum(summary.updated.values()))
    print(f"{args.file}: {summary}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from compliance.ledgerio import export_ledger
    from compliance.output import write_atomic
    from core.timefmt import parse_when
    from inventory.config import load_config
    from store.db import open_store

    inventory = load_config(args.config)
    tz = inventory.agent.timezone
    bounds = []
    for option, value in (("--from", args.start), ("--to", args.end)):
        if value is None:
            bounds.append(None)
            continue
        try:
            bounds.append(parse_when(value, tz))
        except ValueError as exc:
            raise InputError.single("command line", str(exc), field=option) from None
    start = bounds[0] if bounds[0] is not None else 0.0
    end = bounds[1] if bounds[1] is not None else 1e18
    if end <= start:
        raise InputError.single("command line", "--to must be after --from", field="--to")
    with open_store(inventory.data_dir) as store:
        lines = export_ledger(store, start, end, tz)
    text = "".join(line + "\n" for line in lines)
    if args.output:
        write_atomic(args.output, text.encode("utf-8"))
        print(f"wrote {len(lines)} events to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
