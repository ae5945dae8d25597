"""``yunwei probe KIND TARGET``: one probe now, result printed (what an engineer types at the jump host)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import yaml
from pydantic import ValidationError

from cli.commands.events import register_trap_listen
from cli.main import command_help
from collectors import registry
from collectors.base import CollectorContext, Target, split_host_port
from core.errors import InputError, InputProblem
from core.metrics import MetricSpec
from core.model import Sample
from core.timefmt import duration
from inventory.models import ResolvedDevice, ResolvedProbe


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("probe", help=command_help("probe"))
    kinds = parser.add_subparsers(dest="collector", metavar="KIND", required=True)
    for name in registry.names():
        collector = registry.get(name)
        summary = (collector.__doc__ or "").strip().splitlines()[0] if collector.__doc__ else f"{name} probe"
        sub = kinds.add_parser(
            name,
            help=summary.replace("%", "%%"),  # argparse %-formats help strings
            description=sys.modules[collector.__module__].__doc__,
            epilog=metrics_epilog(collector.metrics).replace("%", "%%"),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("target", help="address, host name or URL")
        sub.add_argument(
            "-o", "--option", action="append", default=[], metavar="KEY=VALUE", help="any option of the collector (repeatable)"
        )
        sub.add_argument("--json", action="store_true", help="print the sample as JSON")
        collector.add_cli_arguments(sub)
        sub.set_defaults(func=run)
    register_trap_listen(kinds)


def metrics_epilog(specs: tuple[MetricSpec, ...]) -> str:
    """The metrics a collector declares, for ``yunwei probe KIND --help`` (threshold rules name them)."""
    lines = ["metrics (for alerting.thresholds):"]
    for spec in specs:
        unit = f" [{spec.unit.replace('_', ' ')}]" if spec.unit else ""
        lines.append(f"  {spec.key:<28} {spec.help}{unit}")
    return "\n".join(lines)


def parse_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError.single("command line", f"option {pair!r} must look like key=value", field="--option")
        options[key.strip()] = yaml.safe_load(value) if value else ""
    return options


def with_port(collector_cls: Any, target: str, options: dict[str, Any]) -> str:
    """The address of ``host:port`` / ``[v6]:port``, its port put into the collector's port option."""
    try:
        host, port = split_host_port(target)
    except ValueError as exc:
        raise InputError.single("command line", str(exc), field="TARGET") from None
    if port is None:
        return target
    option = collector_cls.port_option(options)
    if option is None:
        raise InputError.single("command line", f"{target!r}: {collector_cls.name} takes no port", field="TARGET")
    field = collector_cls.Options.model_fields.get(option)
    given = options.get(option)
    if given not in (None, port, field.default if field is not None else None):
        raise InputError.single(
            "command line", f"{target!r} says port {port} but the options say {option}={given}", field="TARGET"
        )
    options[option] = port
    return host


def build_target(collector_name: str, address: str, options: dict[str, Any], kind: str = "other") -> Target:
    collector = registry.get(collector_name)
    try:
        validated = collector.Options.model_validate(options)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(map(str, error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                message = f"required (-o {field}=VALUE)"
            elif error["type"] == "extra_forbidden":
                message = f"unknown option for {collector_name} (see yunwei probe {collector_name} --help)"
            problems.append(InputProblem("command line", message, field=field))
        raise InputError(problems) from None
    probe = ResolvedProbe(name=collector_name, collector=collector_name, interval=60.0, options=validated)
    device = ResolvedDevice(
        id=address.replace("/", "_").replace(":", "_") or "target",
        name=address,
        kind=kind,
        address=address if "://" not in address else None,
        unit=None,
        system=None,
        group=None,
        parent=None,
        role=None,
        online=collector_name,
        tags={},
        attrs={},
        probes={collector_name: probe},
    )
    return Target(device=device, probe=probe)


def run(args: argparse.Namespace) -> int:
    collector_cls = registry.get(args.collector)
    options = collector_cls.cli_options(args)
    options.update(parse_options(args.option))
    address = with_port(collector_cls, args.target, options)
    target = build_target(args.collector, address, options)
    sample = asyncio.run(_probe_once(collector_cls, target))
    if args.json:
        print(json.dumps(sample.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_sample(args.target, sample))
    return 0 if sample.ok else 1


async def _probe_once(collector_cls: Any, target: Target) -> Sample:
    collector = collector_cls(CollectorContext())
    try:
        samples = await collector.collect([target])
    finally:
        await collector.close()
    return samples[0]


def format_sample(target: str, sample: Sample) -> str:
    lines = [f"{target}: {'UP' if sample.ok else 'DOWN'}" + (f" ({sample.error})" if sample.error else "")]
    for key, value in sorted(sample.metrics.items()):
        lines.append(f"  {key:<24} {format_metric(key, value)}")
    for key, value in sorted(sample.info.items()):
        lines.append(f"  {key:<24} {value}")
    return "\n".join(lines)


def format_metric(key: str, value: float) -> str:
    if key.endswith("_seconds"):
        return human_seconds(value, short=any(word in key for word in ("rtt", "jitter", "latency", "connect")))
    if key.endswith("_percent"):
        return f"{value:.1f} %"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}"


def human_seconds(value: float, short: bool = False) -> str:
    """Round trips (``short``) in ms (``0.42 ms``), other spans in seconds, uptimes as ``3 天 4 小时``."""
    if short and value < 1:
        return f"{value * 1000:.2f} ms"
    if value < 60:
        return f"{value:.1f} 秒"
    return duration(value)
