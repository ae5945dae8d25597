"""``yunwei report``: a contract's score, grade, money cut and evidence for one period.

``yunwei report --contract NAME --period 2026-11 --format json|xlsx|html|docx -o FILE``
computes from the agent's store, or from a JSON-Lines ledger with ``--ledger FILE.jsonl``.
``yunwei contracts`` lists the contracts of the config and checks each one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from cli.main import add_config_argument, command_help
from core.errors import InputError

FORMATS = ("json", "xlsx", "html", "docx")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help=command_help("report"))
    add_config_argument(parser)
    parser.add_argument("--contract", required=True, help="contract id from the config's contracts:, or a contract file")
    parser.add_argument("--period", required=True, help="2026-11 (a month; contract months start on their day) or 2025")
    parser.add_argument("--format", choices=FORMATS, help="output format (default: from the -o extension, else json)")
    parser.add_argument("-o", "--output", help="output file (json may go to standard output)")
    parser.add_argument("--ledger", help="compute from this JSON-Lines ledger instead of the store")
    parser.add_argument("--now", help="the report's clock (ISO time; default: now): open faults are measured to it")
    parser.add_argument("--language", choices=("zh", "en"), help="report language (default: the agent's)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on standard error")
    parser.set_defaults(func=run)
    contracts = subparsers.add_parser("contracts", help=command_help("contracts"))
    add_config_argument(contracts)
    contracts.add_argument("action", nargs="?", choices=("list", "init"), default="list",
                           help="list (default), or init: write the example contracts into DIR")
    contracts.add_argument("directory", nargs="?", metavar="DIR",
                           help="with init: where (e.g. /etc/yunwei/examples/contracts, as config.example.yaml names them)")
    contracts.add_argument("--force", action="store_true", help="with init: overwrite existing files")
    contracts.set_defaults(func=run_contracts)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output:
        extension = os.path.splitext(args.output)[1].lower().lstrip(".")
        if extension in FORMATS:
            return extension
        if extension in ("htm",):
            return "html"
    return "json"


def run(args: argparse.Namespace) -> int:
    from compliance.report import generate

    started = time.monotonic()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"yunwei report: [{time.monotonic() - started:5.1f}s] {message}", file=sys.stderr, flush=True)

    fmt = _format(args)
    if fmt != "json" and not args.output:
        raise InputError.single("command line", f"{fmt} output needs -o FILE", field="--output")
    inventory = None
    if os.path.exists(args.config) or not args.ledger:
        from inventory.config import load_config

        inventory = load_config(args.config)
    data, summary = generate(
        contract_name=args.contract,
        period_text=args.period,
        fmt=fmt,
        inventory=inventory,
        ledger_file=args.ledger,
        now_text=args.now,
        language=args.language,
        progress=progress,
    )
    if args.output:
        from compliance.output import write_atomic

        write_atomic(args.output, data)
        progress(f"wrote {args.output} ({len(data):,} bytes)")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    print(summary, file=sys.stderr)
    return 0


def run_contracts(args: argparse.Namespace) -> int:
    from compliance.resolve import load_configured
    from inventory.config import load_config

    if args.action == "init":
        from compliance.examples import init_contracts

        if not args.directory:
            raise InputError.single("command line", "say where: yunwei contracts init DIR", field="DIR")
        for path in init_contracts(args.directory, overwrite=args.force):
            print(f"wrote {path}")
        return 0
    if args.directory:
        raise InputError.single("command line", f"unexpected {args.directory!r} (did you mean `contracts init DIR`?)", field="DIR")

    inventory = load_config(args.config)
    loaded, problems = load_configured(inventory)
    if not loaded and not problems:
        print(f"{args.config}: no contracts: section")
        return 0
    for ref_id, where, contract in loaded:
        parts = sum(len(t.parts) for t in contract.scoring.tables or [])
        print(f"{ref_id}: {contract.name} ({where}): {len(contract.units)} units, "
              f"{len(contract.systems)} systems, {len(contract.online_rate.groups)} online-rate groups, {parts} parts")
    if problems:
        raise InputError(problems)
    return 0
