"""``yunwei inspect DEVICE|GROUP ...``: SSH inspections now, evidence kept, records filed."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from agent.status import format_table
from cli.main import add_config_argument, command_help
from inventory.lookup import device_or_group

TEXT = {
    "zh": {
        "headers": ["设备", "名称", "结果", "CPU", "内存", "运行时间", "故障端口", "证据 / 原因"],
        "ok": "正常",
        "problem": "有问题",
        "failed": "未完成",
        "summary": "巡检 {n} 台：{ok} 正常，{problem} 有问题，{failed} 未完成；已记录 {filed} 条巡检记录",
    },
    "en": {
        "headers": ["device", "name", "result", "CPU", "memory", "uptime", "if down", "evidence / why"],
        "ok": "ok",
        "problem": "problem",
        "failed": "failed",
        "summary": "{n} inspected: {ok} ok, {problem} with problems, {failed} failed; {filed} inspection records filed",
    },
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("inspect", help=command_help("inspect"))
    add_config_argument(parser)
    parser.add_argument("names", nargs="+", metavar="DEVICE|GROUP", help="device or group ids or names (their ssh probes)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agent.inspections import inspection_targets, run_inspections
    from inventory.config import load_config
    from store.db import open_store

    inventory = load_config(args.config)
    targets = inspection_targets(inventory, [device_or_group(inventory, name, "DEVICE|GROUP") for name in args.names])

    async def direct(function: Any, *values: Any) -> Any:
        return function(*values)

    with open_store(inventory.data_dir) as store:
        results = asyncio.run(run_inspections(inventory, targets, direct, store, "on demand"))
    if args.json:
        print(json.dumps([{"sample": s.to_dict(), "record": r} for s, r in results], ensure_ascii=False, indent=2))
    else:
        print(render(inventory.agent.language, results, {d: inventory.devices[d].label for d in inventory.devices}))
    return 0 if all(s.ok and s.info.get("result") == "ok" for s, _ in results) else 1


def render(language: str, results: list[tuple[Any, Any]], labels: dict[str, str]) -> str:
    text = TEXT.get(language, TEXT["zh"])
    rows = []
    counts = {"ok": 0, "problem": 0, "failed": 0}
    for sample, _record in results:
        metrics = sample.metrics
        if not sample.ok:
            counts["failed"] += 1
            rows.append([sample.device, labels.get(sample.device, ""), text["failed"], "-", "-", "-", "-", sample.error or ""])
            continue
        result = sample.info.get("result", "ok")
        counts[result] = counts.get(result, 0) + 1
        why = sample.info.get("problems", "")
        rows.append(
            [
                sample.device,
                labels.get(sample.device, ""),
                text.get(result, result),
                _percent(metrics.get("cpu_percent")),
                _percent(metrics.get("memory_percent")),
                _uptime(metrics.get("uptime_seconds")),
                str(int(metrics["interfaces_down"])) if "interfaces_down" in metrics else "-",
                (why + "  " if why else "") + sample.info.get("evidence", ""),
            ]
        )
    filed = sum(1 for _, record in results if record is not None)
    summary = text["summary"].format(n=len(results), filed=filed, **counts)
    return format_table(text["headers"], rows) + "\n\n" + summary


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(int(seconds), 86400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"
