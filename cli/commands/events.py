"""``yunwei events``: stored traps and syslog messages; ``yunwei probe trap-listen``: print what
arrives, for setting a device up (no daemon, no store)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
from typing import Any

from pydantic import ValidationError

from cli.main import add_config_argument, command_help
from core.errors import InputError, InputProblem
from core.events import Event
from core.timefmt import parse_when, short, to_iso_seconds
from inventory.config import load_config
from receivers.config import SyslogConfig, TrapsConfig
from receivers.hooks import device_index
from receivers.syslog import SyslogReceiver
from receivers.trap_meanings import Context
from receivers.traps import TrapReceiver
from store.db import open_store
from store.events import EventLog

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("events", help=command_help("events"))
    add_config_argument(parser)
    parser.add_argument("--device", help="a device id (or a source address)")
    parser.add_argument("--since", default="1d", help="30m, 6h, 7d or a time (2026-11-03 09:12); default 1d")
    parser.add_argument("--until", help="a time (default now)")
    parser.add_argument("--kind", choices=["trap", "syslog"], help="only traps or only syslog")
    parser.add_argument("--grep", help="text in the name, OID, message, varbinds or subject")
    parser.add_argument("--limit", type=int, default=200, help="newest N (default 200)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(func=run_events)


def parse_since(text: str, zone: str, now: float) -> float:
    match = _RELATIVE.match(text.strip())
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2)]
    return parse_when(text, zone)


def run_events(args: argparse.Namespace) -> int:
    inventory = load_config(args.config)
    zone = inventory.agent.timezone
    now = time.time()
    try:
        since = parse_since(args.since, zone, now)
        until = parse_when(args.until, zone) if args.until else now + 1
    except ValueError as exc:
        raise InputError.single("command line", str(exc), field="--since/--until") from None
    with open_store(inventory.data_dir) as store:
        found = EventLog(store).search(args.device, since, until, args.kind, args.grep, max(1, args.limit))
    for stored in reversed(found):
        event = stored.event
        if args.json:
            body = {"id": stored.id, "at": to_iso_seconds(event.at, zone), **_plain(event), "outcome": stored.outcome}
            print(json.dumps(body, ensure_ascii=False))
        else:
            print(format_event(event, zone, stored.outcome))
    if not found and not args.json:
        print("没有符合条件的事件" if inventory.agent.language == "zh" else "no events match", file=sys.stderr)
    return 0


def recent_lines(store: Any, inventory: Any, now: float, hours: float = 24) -> list[str]:
    """What ``yunwei status`` shows of the receivers: messages in the last hours and the latest "down" ones."""
    log = EventLog(store)
    since = now - hours * 3600
    total = log.count(since)
    downs = log.search(since=since, hint="down", limit=5)
    zh = inventory.agent.language == "zh"
    lines = [f"告警/日志事件 (近 {hours:g} 小时): {total} 条" if zh else f"traps/syslog (last {hours:g} h): {total} messages"]
    for stored in downs:
        event = stored.event
        device = inventory.devices.get(event.device) if event.device else None
        name = device.name if device else event.source
        lines.append(f"  ↓ {short(event.at, inventory.agent.timezone, now)} {name}: {event.summary}" + (f"  [{stored.outcome}]" if stored.outcome else ""))
    for receiver, (counters, updated) in sorted(log.stats().items()):
        if now - updated > 600:
            continue  # the daemon is not running (or this receiver is off)
        refused = ", ".join(f"{reason} {count}" for reason, count in counters.get("rejected", {}).items() if reason != "v3 discovery")
        dropped = {k: counters.get(k, 0) for k in ("rate_limited", "malformed", "oversized", "queue_full") if counters.get(k)}
        if refused or dropped:
            parts = [refused] if refused else []
            parts += [f"{k} {v}" for k, v in dropped.items()]
            label = ("拒收/丢弃" if zh else "refused/dropped") + f" ({receiver})"
            lines.append(f"  {label}: {'; '.join(parts)}")
    strangers = log.unknown_sources(since)
    if strangers:
        listed = ", ".join(f"{source} ({count})" for source, count in strangers)
        lines.append(f"  未登记的来源地址: {listed}" if zh else f"  sources matching no device: {listed}")
    if total:
        lines.append("  (yunwei events --since 24h)")
    return lines


def _plain(event: Event) -> dict[str, Any]:
    keys = ("kind", "source", "device", "name", "oid", "hint", "subject", "metric", "value", "level", "severity", "text", "message", "varbinds")
    return {key: getattr(event, key) for key in keys if getattr(event, key) not in (None, "", {})}


def format_event(event: Event, zone: str, outcome: str = "") -> str:
    """``2026-12-07T09:12:13+08:00 trap 127.0.0.3 core-sw linkDown ↓ lo: lo 链路中断 [fault opened]``."""
    arrow = {"down": " ↓", "up": " ↑"}.get(event.hint or "", "")
    subject = f" {event.subject}" if event.subject else ""
    said = event.text or event.message or ", ".join(f"{k}={v}" for k, v in list(event.varbinds.items())[:4])
    line = f"{to_iso_seconds(event.at, zone)} {event.kind:<6} {event.source:<15} {event.device or '-':<12} {event.name}{arrow}{subject}: {said}"
    return line + (f"  [{outcome}]" if outcome else "")


# -- yunwei probe trap-listen -----------------------------------------------------------------


def register_trap_listen(kinds: argparse._SubParsersAction) -> None:
    """``yunwei probe trap-listen``: added by ``cli.commands.probe`` beside the collectors."""
    parser = kinds.add_parser("trap-listen", help="listen for SNMP traps (and syslog) and print what arrives")
    parser.add_argument("--listen", default="0.0.0.0:162", help="HOST:PORT for traps (default 0.0.0.0:162)")
    parser.add_argument("--syslog", metavar="HOST:PORT", help="also listen for syslog (UDP and TCP) here")
    parser.add_argument("-C", "--community", action="append", default=[], help="accepted v1/v2c community (repeatable; default $YUNWEI_TRAP_COMMUNITY or public)")
    parser.add_argument("-u", "--user", help="SNMPv3 user allowed to send")
    parser.add_argument("-a", "--auth-protocol", help="SNMPv3 auth protocol (default SHA)")
    parser.add_argument("-A", "--auth-key", help="SNMPv3 auth pass phrase (prefer $YUNWEI_SNMP_AUTH_KEY)")
    parser.add_argument("-x", "--priv-protocol", help="SNMPv3 privacy protocol (default AES)")
    parser.add_argument("-X", "--priv-key", help="SNMPv3 privacy pass phrase (prefer $YUNWEI_SNMP_PRIV_KEY)")
    parser.add_argument("-c", "--config", help="a config file: its traps:/syslog: rules and devices are used")
    parser.add_argument("--count", type=int, help="stop after this many events")
    parser.add_argument("--seconds", type=float, help="stop after this many seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per event")
    parser.set_defaults(func=run_trap_listen)


def _listen_configs(args: argparse.Namespace) -> tuple[TrapsConfig, SyslogConfig | None, Any]:
    inventory = load_config(args.config) if args.config else None
    base_traps = inventory.config.traps.model_dump() if inventory else {}
    base_syslog = inventory.config.syslog.model_dump() if inventory else {}
    communities = args.community or base_traps.get("communities") or [os.environ.get("YUNWEI_TRAP_COMMUNITY", "public")]
    users = base_traps.get("v3_users") or []
    if args.user:
        user = {"user": args.user, "auth_key": args.auth_key or os.environ.get("YUNWEI_SNMP_AUTH_KEY")}
        for key, value in (("auth_protocol", args.auth_protocol), ("priv_protocol", args.priv_protocol),
                           ("priv_key", args.priv_key or os.environ.get("YUNWEI_SNMP_PRIV_KEY"))):
            if value:
                user[key] = value
        users = [user]
    try:
        traps = TrapsConfig.model_validate({**base_traps, "listen": args.listen, "communities": communities, "v3_users": users,
                                            "rate_per_source": 1e6, "burst": 10**6})
        syslog = SyslogConfig.model_validate({**base_syslog, "listen": args.syslog}) if args.syslog else None
    except ValidationError as exc:
        problems = [InputProblem("command line", e["msg"].removeprefix("Value error, "), field=".".join(map(str, e["loc"])))
                    for e in exc.errors()]
        raise InputError(problems) from None
    return traps, syslog, inventory


def run_trap_listen(args: argparse.Namespace) -> int:
    traps_config, syslog_config, inventory = _listen_configs(args)
    zone = inventory.agent.timezone if inventory else "Asia/Shanghai"
    language = inventory.agent.language if inventory else "zh"
    addresses = device_index(inventory) if inventory else {}
    return asyncio.run(_listen(args, traps_config, syslog_config, addresses, zone, language, inventory))


async def _listen(args: argparse.Namespace, traps_config: TrapsConfig, syslog_config: SyslogConfig | None,
                  addresses: dict[str, str], zone: str, language: str, inventory: Any) -> int:
    done = asyncio.Event()
    seen = 0

    def show(event: Event) -> None:
        nonlocal seen
        seen += 1
        if args.json:
            print(json.dumps({"at": to_iso_seconds(event.at, zone), **_plain(event)}, ensure_ascii=False), flush=True)
        else:
            print(format_event(event, zone), flush=True)
            for oid, value in event.varbinds.items():
                print(f"    {oid} = {value}", flush=True)
        if args.count and seen >= args.count:
            done.set()

    traps = TrapReceiver(traps_config, show, addresses.get, Context(language), inventory.agent.id if inventory else "yunwei")
    syslog = SyslogReceiver(syslog_config, show, addresses.get, language, zone) if syslog_config else None
    try:
        host, port = await traps.start()
        where = [f"traps {host}:{port}/udp"]
        if syslog is not None:
            host, port = await syslog.start()
            where.append(f"syslog {host}:{port}/udp+tcp")
    except OSError as exc:
        hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE; try --listen 0.0.0.0:1162)" if exc.errno == 13 else ""
        traps.close()
        raise InputError.single("command line", f"cannot listen: {exc}{hint}", field="--listen") from None
    print(f"listening: {', '.join(where)} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, done.set)
        loop.add_signal_handler(signal.SIGTERM, done.set)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), args.seconds)
    traps.close()
    if syslog is not None:
        syslog.close()
    stats = {"traps": traps.stats.as_dict(), **({"syslog": syslog.stats.as_dict()} if syslog else {})}
    print(json.dumps(stats, ensure_ascii=False), file=sys.stderr)
    return 0


