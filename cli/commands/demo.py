"""``yunwei demo``: a simulated fleet on loopback, the real agent polling it, then the status table;
``yunwei demo traps``: pushed events (SNMP traps and syslog) from simulated devices, about 10 s."""

from __future__ import annotations

import argparse

from cli.main import command_help

SCENARIOS = {
    "fleet": "about 80 simulated devices polled for --seconds, then the status table and the month's score (default)",
    "traps": "SNMP traps and syslog pushed to the agent's receivers: confirmed, refuted, turned into faults (~10 s)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help=command_help("demo"), formatter_class=argparse.RawDescriptionHelpFormatter,
                                   epilog="scenarios:\n" + "\n".join(f"  {name:<7} {text}" for name, text in SCENARIOS.items()))
    parser.add_argument("scenario", nargs="?", choices=list(SCENARIOS), default="fleet", help="which demo (default fleet)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the agent polls the fleet (default 60)")
    parser.add_argument("--data-dir", help="keep the demo's store here (default: a new /tmp/yunwei-demo-* folder)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.scenario == "traps":
        from demo.traps import run_traps_demo

        return run_traps_demo(data_dir=args.data_dir)
    from demo.fleet import run_demo

    return run_demo(seconds=args.seconds, data_dir=args.data_dir)
