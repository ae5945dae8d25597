"""``yunwei run``: the foreground daemon (systemd-friendly).

Logs go to stderr. SIGTERM/SIGINT stop scheduling, let the running round finish and exit 0.
SIGHUP reloads the config; a config with errors is refused and the old one kept.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from agent.runtime import Agent
from cli.main import add_config_argument, command_help
from core.errors import InputError
from core.logtime import use_zone
from inventory.snapshot import load_and_remember
from store.lock import agent_lock

log = logging.getLogger("yunwei.run")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help=command_help("run"))
    add_config_argument(parser)
    parser.add_argument(
        "--drain-timeout", type=float, default=60.0, help="seconds to wait for running rounds on SIGTERM (default 60)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inventory = load_and_remember(args.config)  # and keep its view for status, faults list
    use_zone(inventory.agent.timezone)  # log lines in the zone the tables and chat use
    with agent_lock(inventory.data_dir):  # one agent per data directory
        return asyncio.run(serve(args.config, inventory, args.drain_timeout))


async def serve(config_path: str, inventory: object, drain_timeout: float = 60.0) -> int:
    agent = Agent(inventory)  # type: ignore[arg-type]
    stop = asyncio.Event()
    reload_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload_requested.set)
    await agent.start()
    try:
        while not stop.is_set():
            waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(reload_requested.wait())]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            if reload_requested.is_set() and not stop.is_set():
                reload_requested.clear()
                try:
                    new_inventory = load_and_remember(config_path)
                except InputError as exc:
                    log.error("reload refused, keeping the running config:\n%s", exc)
                    continue
                use_zone(new_inventory.agent.timezone)
                await agent.reload(new_inventory)
    finally:
        log.info("stopping: draining running rounds")
        await agent.drain(drain_timeout)
        log.info("stopped")
    return 0
