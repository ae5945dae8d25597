"""``yunwei``: the command line. Each command lives in its own module with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from core.errors import InputError
from core.logtime import ZonedFormatter
from inventory.paths import DEFAULT_CONFIG

# Every top-level command: the module that registers it and its one line in ``yunwei --help``.
# ``yunwei --help`` lists them without importing any; running one imports only its module
# (a module's heavy dependencies are paid by its own command, never by the others).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("cli.commands.run", "run the agent in the foreground (SIGTERM drains, SIGHUP reloads)"),
    "check": ("cli.commands.check", "validate config and inventory (exit 2 on any problem)"),
    "probe": ("cli.commands.probe", "probe a target once and print the result"),
    "status": ("cli.commands.status", "show devices' current state and group online rates"),
    "inventory": ("cli.commands.inventory", "import or export the asset ledger (XLSX/CSV)"),
    "demo": ("cli.commands.demo", "run the agent against a simulated fleet on loopback (~1 minute); `demo traps`: pushed events (~10 s)"),
    "faults": ("cli.commands.faults", "list, acknowledge, resolve and open faults (work orders)"),
    "inspect": ("cli.commands.inspect", "SSH inspection (巡检) of devices or groups now: evidence kept, records filed"),
    "meeting": ("cli.commands.meeting", "meeting readiness: probe every venue's terminal, camera and MCU now"),
    "ledger": ("cli.commands.ledger", "import or export the ledger (state changes, faults, records) as JSON Lines"),
    "report": ("cli.commands.report", "compute a contract's monthly score and write the report"),
    "contracts": (
        "cli.commands.report",
        "list the config's contracts and check each file; `contracts init DIR` writes the examples",
    ),
    "record": ("cli.commands.record", "add a manual record (visit, inspection, document, deduction ...)"),
    "events": ("cli.commands.events", "search received SNMP traps and syslog messages (yunwei probe trap-listen prints them live)"),
    "user": ("cli.commands.user", "web console accounts: add, passwd, disable, enable, list (roles viewer/engineer/admin)"),
    "audit": ("cli.commands.audit", "the tamper-evident audit trail (console and CLI actions): verify the hash chain, list entries"),
}
COMMAND_MODULES = tuple(dict.fromkeys(module for module, _ in COMMANDS.values()))


def later(module: str, function: str) -> Callable[[argparse.Namespace], int]:
    """A command's handler imported when it runs, so registering it costs none of its imports."""

    def run(args: argparse.Namespace) -> int:
        handler: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), function)
        return handler(args)

    return run


def command_help(name: str) -> str:
    """The command's line in ``yunwei --help`` (modules register their parsers with it)."""
    return COMMANDS[name][1]


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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command`` (``""`` for none) only that command's module is
    imported and the others are listed by name and help, which is all ``--help`` and a usage
    error need."""
    parser = _Parser(
        prog="yunwei",
        description="运维 monitoring agent: probes, graded faults, chat alerts and contract compliance reports.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = COMMAND_MODULES if command is None else [COMMANDS[command][0]] if command in COMMANDS else []
    for name, (module, help_text) in COMMANDS.items():
        if name in subparsers.choices:
            continue
        if module in wanted:
            importlib.import_module(module).register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)  # listed only: never run in this process
    return parser


def command_in(argv: Sequence[str]) -> str:
    """The command named on the line (the first word that is not an option), or ``""``."""
    return next((word for word in argv if not word.startswith("-")), "")


def setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ZonedFormatter())  # the configured zone once the config is read (core.logtime.use_zone)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    for noisy in ("apscheduler", "paramiko", "netmiko", "pysnmp", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_in(argv))
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
