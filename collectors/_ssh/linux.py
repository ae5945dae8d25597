"""Linux servers (netmiko ``linux``): a fixed list of read-only commands, no shell syntax."""

from __future__ import annotations

import re

from collectors._ssh.figures import Figures

COMMANDS = ("cat /proc/uptime", "vmstat 1 2", "cat /proc/meminfo", "ip -o link show", "df -P")
RULE = ("only these read commands: uptime, hostname, uname -a, cat /proc/{uptime,loadavg,meminfo,stat,cpuinfo}, "
        "cat /etc/os-release, vmstat [N [M]], free [-b|-k|-m|-g|-h], df [-P|-h|-T|-i ...], ip [-o|-br|-s] link|addr [show], "
        "ss -s, who, w, lsblk, systemctl --failed, systemctl is-active NAME, journalctl -p err -n N --no-pager")
_READ_ONLY = [
    r"uptime( -p| -s)?",
    r"hostname",
    r"uname( -[a-z]+)?",
    r"cat /proc/(uptime|loadavg|meminfo|stat|cpuinfo|version)",
    r"cat /etc/os-release",
    r"vmstat( \d{1,2}( \d{1,2})?)?",
    r"free( -[bkmgh])?",
    r"df( -[PhTi]+)*",
    r"ip( -(o|br|s|4|6))* (link|addr|address|route)( show)?",
    r"ss -s",
    r"who",
    r"w",
    r"lsblk",
    r"systemctl --failed( --no-pager)?",
    r"systemctl is-active [A-Za-z0-9@_.\-]+",
    r"journalctl -p (err|warning|crit) -n \d{1,4} --no-pager",
]
_ALLOWED = re.compile("^(?:" + "|".join(_READ_ONLY) + ")$")


def allowed(command: str) -> str | None:
    if _ALLOWED.match(" ".join(command.split())):
        return None
    return f"{command!r} is not on the list of read-only commands"


def parse(outputs: dict[str, str]) -> Figures:
    figures = Figures()
    for command, output in outputs.items():
        if command == "cat /proc/uptime":
            match = re.match(r"\s*(\d+(?:\.\d+)?)", output)
            if match:
                figures.uptime_seconds = float(match.group(1))
        elif command.startswith("vmstat"):
            rows = [line.split() for line in output.splitlines() if line.strip()[:1].isdigit()]
            header = next((line.split() for line in output.splitlines() if " id " in f" {line} "), None)
            if rows and header and "id" in header and len(rows[-1]) == len(header):
                figures.cpu_percent = 100.0 - float(rows[-1][header.index("id")])
        elif command == "cat /proc/meminfo":
            values = dict(re.findall(r"^(\w+):\s+(\d+)", output, re.MULTILINE))
            total, available = int(values.get("MemTotal", 0)), values.get("MemAvailable")
            if total and available is not None:
                figures.memory_percent = round(100.0 * (total - int(available)) / total, 1)
        elif command.startswith("ip") and " link" in command:
            names = []
            for line in output.splitlines():
                match = re.match(r"^\d+:\s+([^:@\s]+)[^:]*:\s+<([^>]*)>.*?\bstate\s+(\S+)", line)
                if not match or match.group(1) == "lo":
                    continue
                flags, state = match.group(2).split(","), match.group(3)
                if "UP" in flags and state == "DOWN":  # configured up, no carrier: a fault; admin down is not
                    names.append(match.group(1))
            figures.interfaces_down, figures.down_interfaces = len(names), names
        elif command.startswith("df"):
            uses = [int(v) for v in re.findall(r"\s(\d+)%\s+/", output)]
            if uses:
                figures.disk_percent = float(max(uses))
    return figures
