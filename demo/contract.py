"""Demo part: a small contract over the demo's units; when the demo ends, the month's report
is computed from what the agent recorded (score, grade, cut, the camera group's online rate)
and written as HTML next to the demo's store."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from compliance.display import pct, score_text
from compliance.report import generate
from demo.fleet import DemoContext, DemoFleet
from inventory.config import load_config

CONTRACT = Path(__file__).with_name("demo_contract.yaml")


class ContractDemoPart:
    def __init__(self) -> None:
        self.ctx: DemoContext | None = None

    async def start(self, ctx: DemoContext) -> DemoFleet:
        self.ctx = ctx
        contract = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
        return DemoFleet(sections={"contracts": [{"id": "demo", "contract": contract}]})

    async def stop(self) -> None:
        if self.ctx is None or not self.ctx.config_path.exists():
            return

        inventory = load_config(self.ctx.config_path)
        month = datetime.now(ZoneInfo(inventory.agent.timezone)).strftime("%Y-%m")
        data, summary = generate("demo", month, "json", inventory)
        result = json.loads(data)
        print(f"\nContract (demo contract, {month} so far): {summary}")
        for part in result["parts"]:
            reasons = "; ".join(item["reason"] for item in part["items"][:3])
            print(f"  {part['name']:<8} {score_text(part['value'])}/{score_text(part['points'])}"
                  + (f"  ({reasons})" if reasons else ""))
        for rate in result["online_rates"]:
            if rate["rate"] is not None and rate["threshold"] is not None:
                print(
                    f"  在线率 {rate['name']}: {pct(rate['rate'])} (threshold {pct(rate['threshold'])}), "
                    f"worst {pct(rate['worst_instant']['rate'])}, {rate['breach_episodes']} breach episode(s)"
                )
        html, _ = generate("demo", month, "html", inventory)
        report = self.ctx.data_dir / f"demo-report-{month}.html"
        report.write_bytes(html)
        print(f"demo: the month's report: {report}", file=sys.stderr)


def part() -> ContractDemoPart:
    return ContractDemoPart()
