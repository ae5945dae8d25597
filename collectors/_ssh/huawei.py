"""Huawei VRP (S-series switches, AR routers, USG firewalls): ``display`` commands only."""

from __future__ import annotations

import re

from collectors._ssh.figures import Figures, down_in_table, percent, uptime_words

COMMANDS = ("display version", "display cpu-usage", "display memory-usage", "display interface brief")
RULE = "only 'display ...' commands (abbreviations such as 'dis' allowed), optionally '| include/exclude/begin/count ...'"
_VIEW = re.compile(r"^(?:d|di|dis|disp|displ|displa|display)\s+\S", re.IGNORECASE)
# Filters after a pipe that only shape the output on screen.
_FILTERS = re.compile(r"^(?:i|in|inc|incl|inclu|includ|include|e|ex|exc|excl|exclu|exclud|exclude|b|be|beg|begi|begin|"
                      r"c|co|cou|coun|count|s|se|sec|sect|secti|sectio|section|no-more)\b", re.IGNORECASE)
# display sub-commands that write files or wait for a confirmation
_DENIED = re.compile(r"\b(?:diagnostic-information|diag-info|to-file|save|redirect)\b", re.IGNORECASE)


def allowed_display(command: str) -> str | None:
    """The VRP/Comware rule: ``display`` only, filters after ``|``, no output redirection."""
    if not _VIEW.match(command):
        return f"{command.split()[0]!r} is not a display command"
    if ">" in command:
        return "output redirection ('>') writes a file on the device"
    head, *pipes = command.split("|")
    for pipe in pipes:
        if not _FILTERS.match(pipe.strip()):
            return f"'| {pipe.strip().split()[0] if pipe.strip() else ''}' is not an output filter"
    if _DENIED.search(head):
        return "this display command writes a file or asks for confirmation"
    return None


allowed = allowed_display


def parse(outputs: dict[str, str]) -> Figures:
    figures = Figures()
    text = "\n".join(outputs.values())
    figures.uptime_seconds = uptime_words(text)
    figures.cpu_percent = percent(r"^\s*CPU\s+Usage\s*:\s*(\d+(?:\.\d+)?)%", text)
    if figures.cpu_percent is None:  # V200R019+ multi-board layout: "CPU utilization for five seconds: 8%"
        figures.cpu_percent = percent(r"CPU utilization for five seconds:\s*(\d+(?:\.\d+)?)%", text)
    figures.memory_percent = percent(r"Memory Using Percentage(?: Is)?\s*:\s*(\d+(?:\.\d+)?)%", text)
    figures.set_down(down_in_table(outputs, r"\binterface\s+brief\b", _huawei_header, _huawei_down))
    return figures


def _huawei_header(line: str) -> bool:
    fields = line.split()
    return len(fields) >= 3 and fields[0] == "Interface" and fields[1] == "PHY"


def _huawei_down(line: str) -> str | None:
    fields = line.split()  # PHY "down" is a fault; "*down" is administratively down, not one
    if len(fields) >= 3 and re.match(r"^[A-Za-z][\w\-/.:]*\d", fields[0]) and fields[1].lower() == "down":
        return fields[0]
    return None
