"""``yunwei demo``: a simulated fleet on loopback, the real agent polling it, then the status table."""

from __future__ import annotations

import argparse

from cli.main import command_help


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help=command_help("demo"))
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the agent polls (default 60)")
    parser.add_argument("--data-dir", help="keep the demo's store here (default: a temporary directory)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from demo.fleet import run_demo

    return run_demo(seconds=args.seconds, data_dir=args.data_dir)
