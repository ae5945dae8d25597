"""Cisco IOS / IOS-XE (netmiko ``cisco_ios``): ``show`` commands only."""

from __future__ import annotations

import re

from collectors._ssh.figures import Figures, down_in_table, percent, uptime_words

COMMANDS = (
    "show version",
    "show processes cpu | include CPU utilization",
    "show processes memory | include Processor",
    "show ip interface brief",
)
RULE = "only 'show ...' commands (abbreviations such as 'sh' allowed), optionally '| include/exclude/begin/section/count ...'"
_SHOW = re.compile(r"^(?:sh|sho|show)\s+\S", re.IGNORECASE)
_FILTERS = re.compile(r"^(?:i|in|inc|incl|inclu|includ|include|e|ex|exc|excl|exclu|exclud|exclude|b|be|beg|begi|begin|"
                      r"s|se|sec|sect|secti|sectio|section|c|co|cou|coun|count)\b", re.IGNORECASE)


def allowed(command: str) -> str | None:
    if not _SHOW.match(command):
        return f"{command.split()[0]!r} is not a show command"
    if ">" in command:
        return "output redirection writes a file on the device"
    for pipe in command.split("|")[1:]:
        # '| redirect', '| tee', '| append' write files
        if not _FILTERS.match(pipe.strip()):
            return f"'| {pipe.strip().split()[0] if pipe.strip() else ''}' is not an output filter"
    return None


def parse(outputs: dict[str, str]) -> Figures:
    figures = Figures()
    text = "\n".join(outputs.values())
    figures.uptime_seconds = uptime_words(text)
    figures.cpu_percent = percent(r"CPU utilization for five seconds:.*?one minute:\s*(\d+(?:\.\d+)?)%", text)
    match = re.search(r"Processor Pool Total:\s*(\d+)\s+Used:\s*(\d+)", text, re.IGNORECASE)
    if match and int(match.group(1)):
        figures.memory_percent = round(100.0 * int(match.group(2)) / int(match.group(1)), 1)
    figures.set_down(down_in_table(outputs, r"\bi(?:p)?\s+int\S*\s+br", _cisco_header, _cisco_down))
    return figures


def _cisco_header(line: str) -> bool:
    return re.match(r"^Interface\s+IP-Address\s+OK\?", line) is not None


def _cisco_down(line: str) -> str | None:
    # Status is "up", "down" or "administratively down"; Protocol follows it
    match = re.match(r"^(\S+)\s+\S+\s+\S+\s+\S+\s+(administratively down|up|down)\s+(\S+)", line)
    return match.group(1) if match and match.group(2) == "down" else None
