"""``yunwei``: the command line. Each command lives in its own module with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from core.errors import InputError

# One line per command module; a module registers one or more sub-commands.
COMMAND_MODULES = (
    "agent.commands.run",
    "agent.commands.check",
    "agent.commands.probe",
    "agent.commands.status",
    "agent.commands.inventory",
    "agent.commands.demo",
    "agent.commands.faults",
    "agent.commands.inspect",
    "agent.commands.meeting",
    "agent.commands.ledger",
    "agent.commands.report",
    "agent.commands.record",
    "agent.commands.events",
)

DEFAULT_CONFIG = "config.yaml"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The ``-c/--config`` option every command that reads the config shares."""
    parser.add_argument(
        "-c",
        "--config",
        default=os.environ.get("YUNWEI_CONFIG", DEFAULT_CONFIG),
        help="config file (default: $YUNWEI_CONFIG or ./config.yaml)",
    )


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line naming the command, exit 2 (``-h`` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="yunwei",
        description="运维 monitoring agent: probes, graded faults, chat alerts and contract compliance reports.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("apscheduler", "paramiko", "netmiko", "pysnmp", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        code = args.func(args)
    except InputError as exc:
        for problem in exc.problems:
            print(f"yunwei: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("yunwei: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if args.verbose:
            raise
        print(f"yunwei: error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
