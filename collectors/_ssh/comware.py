"""H3C / HPE Comware 5 and 7 (netmiko ``hp_comware``): ``display`` commands only."""

from __future__ import annotations

import re

from collectors._ssh.figures import Figures, down_in_table, percent, uptime_words
from collectors._ssh.huawei import RULE, allowed_display

COMMANDS = ("display version", "display cpu-usage", "display memory", "display interface brief")
allowed = allowed_display
__all__ = ["COMMANDS", "RULE", "allowed", "parse"]


def parse(outputs: dict[str, str]) -> Figures:
    figures = Figures()
    text = "\n".join(outputs.values())
    figures.uptime_seconds = uptime_words(text)
    # Comware 7: "4% in last 1 minute"; Comware 5: "4% in last 1 minute" too, per slot: take the highest
    minute = [float(v) for v in re.findall(r"(\d+(?:\.\d+)?)%\s+in\s+last\s+1\s+minute", text, re.IGNORECASE)]
    figures.cpu_percent = max(minute) if minute else percent(r"(\d+(?:\.\d+)?)%\s+in\s+last\s+5\s+seconds", text)
    # Comware 7 "Mem: total used free ... FreeRatio" (the last column, in %)
    free_ratios = [float(v) for v in re.findall(r"^\s*Mem:\s+(?:\d+\s+){2,7}(\d+(?:\.\d+)?)%", text, re.MULTILINE)]
    if free_ratios:
        figures.memory_percent = round(100.0 - min(free_ratios), 1)
    else:  # Comware 5: "Used Rate: 43%"
        figures.memory_percent = percent(r"Used Rate\s*:\s*(\d+(?:\.\d+)?)%", text)
    figures.set_down(down_in_table(outputs, r"\binterface\s+brief\b", _comware_header, _comware_down))
    return figures


def _comware_header(line: str) -> bool:
    fields = line.split()
    return len(fields) >= 2 and fields[0] == "Interface" and fields[1] == "Link"


def _comware_down(line: str) -> str | None:
    fields = line.split()  # Link column: UP, DOWN, ADM (administratively down), Stby
    return fields[0] if len(fields) >= 2 and fields[1] == "DOWN" else None
