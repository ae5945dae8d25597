"""``yunwei inventory import|export``: the asset ledger (资产台账) as XLSX or CSV."""

from __future__ import annotations

import argparse

from cli.main import add_config_argument, command_help


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("inventory", help=command_help("inventory"))
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    importer = actions.add_parser("import", help="merge devices from an XLSX or CSV asset ledger into the config")
    add_config_argument(importer)
    importer.add_argument("file", help="FILE.xlsx or FILE.csv; headers in Chinese or English")
    importer.add_argument("--dry-run", action="store_true", help="validate and show what would change, write nothing")
    importer.set_defaults(func=run_import)
    exporter = actions.add_parser("export", help="write the devices of the config as an asset ledger")
    add_config_argument(exporter)
    exporter.add_argument("-o", "--output", required=True, help="FILE.xlsx or FILE.csv")
    exporter.set_defaults(func=run_export)


def run_import(args: argparse.Namespace) -> int:
    from inventory.spreadsheet import import_ledger

    summary = import_ledger(args.config, args.file, dry_run=args.dry_run)
    print(summary)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from inventory.config import load_config
    from inventory.ledger_export import export_ledger

    inventory = load_config(args.config)
    count = export_ledger(inventory, args.output)
    zh = inventory.agent.language == "zh"
    print(f"已导出 {count} 台设备到 {args.output}" if zh else f"wrote {count} devices to {args.output}")
    return 0
