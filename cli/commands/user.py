"""``yunwei user add|passwd|disable|enable|list``: the web console's local accounts.

There is no default password: the first admin is created here. Passwords are asked on the
terminal (twice) or read from standard input with ``--password-stdin`` (one line, for scripts).
Every change is written to the audit trail with the operating-system user who made it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.status import format_table
from cli import audited
from cli.main import add_config_argument, command_help
from core.errors import InputError
from inventory.config import load_config
from store.accounts import Accounts
from store.db import Store, open_store
from web import accounts


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("user", help=command_help("user"))
    commands = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = commands.add_parser("add", help="create an account (asks for the password)")
    add_config_argument(add)
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=accounts.ROLES, help="viewer reads; engineer acts; admin manages users")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=run_add)
    passwd = commands.add_parser("passwd", help="set a new password (also unlocks and logs out)")
    add_config_argument(passwd)
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=run_passwd)
    for name, help_text in (("disable", "refuse logins and end the sessions"), ("enable", "allow logins again")):
        action = commands.add_parser(name, help=help_text)
        add_config_argument(action)
        action.add_argument("name")
        action.set_defaults(func=run_disable if name == "disable" else run_enable)
    listing = commands.add_parser("list", help="the accounts")
    add_config_argument(listing)
    listing.set_defaults(func=run_list)


def _store(args: argparse.Namespace) -> tuple[Store, str]:
    inventory = load_config(args.config)
    return open_store(inventory.data_dir), inventory.agent.timezone


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise InputError.single("yunwei user", "no terminal to ask the password on: use --password-stdin")
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise InputError.single("yunwei user", "the two passwords differ; nothing changed")
    accounts.check_password(password)
    return password


def run_add(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    with store:
        password = _password(args)
        user = accounts.add_user(Accounts(store), args.name, args.role, password)
        audited.record(store, audited.operator(), "user.add", user.name, role=user.role)
    print(f"user {user.name} added ({user.role})")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    with store:
        users = Accounts(store)
        if accounts.get_user(users, args.name) is None:
            raise InputError.single("yunwei user passwd", f"no user {args.name!r} (see yunwei user list)")
        accounts.set_password(users, args.name, _password(args))
        audited.record(store, audited.operator(), "user.passwd", args.name)
    print(f"password of {args.name} changed; its sessions are ended")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    return _set_disabled(args, True)


def run_enable(args: argparse.Namespace) -> int:
    return _set_disabled(args, False)


def _set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    action = "disable" if disabled else "enable"
    store, _ = _store(args)
    with store:
        accounts.set_disabled(Accounts(store), args.name, disabled)
        audited.record(store, audited.operator(), f"user.{action}", args.name)
    print(f"user {args.name} {action}d")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store, timezone = _store(args)
    zone = ZoneInfo(timezone)
    with store:
        users = accounts.list_users(Accounts(store))
    if not users:
        print("no users yet: create the first admin with `yunwei user add NAME --role admin`")
        return 0

    def when(epoch: float | None) -> str:
        return "-" if not epoch else datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d %H:%M")

    rows = [
        [u.name, u.role, "disabled" if u.disabled else ("locked" if u.locked_until > 0 else "active"), when(u.created), when(u.last_login)]
        for u in users
    ]
    print(format_table(["name", "role", "state", "created", "last login"], rows))
    return 0
