"""Online rules: ``icmp``, ``rtsp``, ``any(icmp, sip)``, ``all(icmp, any(rtsp, http))``.

A rule names probes of a device. It is evaluated in three-valued logic over the latest result
of each probe: ``True`` (online), ``False`` (offline) or ``None`` (not known yet).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

PeriodSpec = tuple[date, date, bool, float]  # start, end, yearly, threshold


def threshold_on(threshold: float, periods: Iterable[PeriodSpec], day: date) -> float:
    """A group's online-rate threshold in force on ``day``: the highest of the base one and the
    important periods covering it."""
    best = threshold
    for start, end, yearly, period_threshold in periods:
        if yearly:
            start, end = start.replace(year=day.year), end.replace(year=day.year)
        if start <= day <= end:
            best = max(best, period_threshold)
    return best


_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)|(?P<punct>[(),]))")


@dataclass(frozen=True)
class Rule:
    op: str  # "probe", "any" or "all"
    name: str = ""
    args: tuple[Rule, ...] = ()

    def probes(self) -> set[str]:
        """Every probe name the rule reads."""
        if self.op == "probe":
            return {self.name}
        return set().union(*(arg.probes() for arg in self.args))

    def evaluate(self, results: Mapping[str, bool | None]) -> bool | None:
        """Online (True), offline (False) or unknown (None) from the latest probe results."""
        if self.op == "probe":
            return results.get(self.name)
        values = [arg.evaluate(results) for arg in self.args]
        if self.op == "any":
            if any(v is True for v in values):
                return True
            return None if any(v is None for v in values) else False
        if any(v is False for v in values):
            return False
        return None if any(v is None for v in values) else True

    def __str__(self) -> str:
        if self.op == "probe":
            return self.name
        return f"{self.op}({', '.join(str(a) for a in self.args)})"


def parse_rule(text: str) -> Rule:
    """Parse an online rule; raises ValueError naming the position of a mistake."""
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"online rule {text!r}: unexpected character at position {pos + 1}")
        kind = "name" if match.group("name") else "punct"
        tokens.append((kind, match.group(kind), pos))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not tokens:
        raise ValueError("online rule is empty")

    index = 0

    def parse() -> Rule:
        nonlocal index
        if index >= len(tokens) or tokens[index][0] != "name":
            raise ValueError(f"online rule {text!r}: expected a probe name or any(...)/all(...)")
        name = tokens[index][1]
        index += 1
        if index < len(tokens) and tokens[index][1] == "(":
            if name not in ("any", "all"):
                raise ValueError(f"online rule {text!r}: unknown function {name!r} (use any or all)")
            index += 1
            args = [parse()]
            while index < len(tokens) and tokens[index][1] == ",":
                index += 1
                args.append(parse())
            if index >= len(tokens) or tokens[index][1] != ")":
                raise ValueError(f"online rule {text!r}: missing ')'")
            index += 1
            return Rule(op=name, args=tuple(args))
        return Rule(op="probe", name=name)

    rule = parse()
    if index != len(tokens):
        raise ValueError(f"online rule {text!r}: unexpected {tokens[index][1]!r}")
    return rule
