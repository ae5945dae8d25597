"""Anything ``yunwei check`` accepts, ``yunwei run`` runs.

Configs are generated from the schema: the agent settings, groups and devices with every
registered collector's options (its sample config pointed at a closed loopback port), mixed
with hostile values (.inf, .nan, zero, negative, huge numbers, unknown names, broken online
rules, dangling references). Each goes through the real ``yunwei check``; every one it accepts
starts the agent (scheduler included) for one round, which must end, without an exception,
with one sample per probe that runs in rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agent.runtime import Agent
from cli.main import main
from collectors import registry
from inventory.config import load_config
from inventory.models import KNOWN_KINDS

registry.load_all()
CLOSED_PORT = 9  # discard: nothing listens on loopback, so TCP is refused and UDP unanswered
ROUND_LIMIT = 15.0  # seconds one generated round may take (timeouts are at most 0.5 s)

HOSTILE_NUMBERS = [0, -1, math.inf, -math.inf, math.nan, 1e300, "soon"]


def mostly(valid: list[Any], hostile: list[Any]) -> st.SearchStrategy[Any]:
    """A valid value fifteen times in sixteen, else a hostile one (so that many configs pass)."""
    # hostile on a middle roll: hypothesis favours the ends of a range
    return st.integers(0, 15).flatmap(lambda roll: st.sampled_from(hostile if roll == 7 else valid))


intervals = mostly([1, 2.5, 60, 86400], [*HOSTILE_NUMBERS, 31 * 86400 + 1])
timeouts = mostly([0.2, 0.5], HOSTILE_NUMBERS)


def sample_options(collector: str) -> dict[str, Any]:
    """The collector's documented sample config, aimed at a closed loopback port."""
    options = dict(yaml.safe_load(registry.get(collector).sample_config)[collector] or {})
    fields = registry.get(collector).Options.model_fields
    for name in ("port", "nut_port"):
        if name in fields:
            options[name] = CLOSED_PORT
    if "url" in options:
        options["url"] = f"http://127.0.0.1:{CLOSED_PORT}/"
    if "retries" in fields:
        options["retries"] = 0
    if "count" in fields:
        options["count"] = 1
    return options


@st.composite
def probe_specs(draw: st.DrawFn) -> dict[str, Any]:
    shipped = [n for n in registry.names() if registry.get(n).__module__.startswith("collectors.")]  # not test fakes
    names = draw(st.lists(st.sampled_from(shipped), min_size=1, max_size=3, unique=True))
    probes: dict[str, Any] = {}
    for name in names:
        options = sample_options(name)
        if "timeout" in registry.get(name).Options.model_fields:
            options["timeout"] = draw(timeouts)
        if draw(st.booleans()):
            options["interval"] = draw(intervals)
        if draw(st.integers(0, 19)) == 9:
            options["bogus_option"] = 1
        probes[name] = options
    if draw(st.integers(0, 19)) == 9:
        probes["ghost"] = {"collector": "no-such-collector"}
    return probes


def online_rules(probes: list[str]) -> st.SearchStrategy[str | None]:
    names = mostly(probes, ["ghost"]) if probes else st.just("ghost")
    rules = st.one_of(names, st.lists(names, min_size=1, max_size=3).map(lambda n: f"{'any' if len(n) % 2 else 'all'}({', '.join(n)})"))
    broken = st.sampled_from(["any()", "all(", "", "icmp icmp", ")"])
    return st.integers(0, 15).flatmap(lambda roll: broken if roll == 7 else st.one_of(st.none(), rules))


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    agent: dict[str, Any] = {}
    if draw(st.booleans()):
        agent["default_interval"] = draw(intervals)
    if draw(st.booleans()):
        agent["jitter"] = draw(mostly([0, 0.1, 0.5], [0.7, math.nan]))
    if draw(st.booleans()):
        agent["debounce"] = {"down_after": draw(mostly([1, 3], [0])), "up_after": draw(mostly([1, 2], [-1]))}
    if draw(st.booleans()):
        agent["language"] = draw(mostly(["zh", "en"], ["fr"]))
    groups = []
    for index in range(draw(st.integers(0, 2))):
        group: dict[str, Any] = {"id": f"g{index}"}
        if draw(st.booleans()):
            group["online_rate"] = {"threshold": draw(mostly([0.95, 1], [0, 1.5, math.nan]))}
        if draw(st.booleans()):
            group["probes"] = draw(probe_specs())
        if draw(st.booleans()):
            group["interval"] = draw(intervals)
        groups.append(group)
    devices = []
    count = draw(st.integers(1, 4))
    for index in range(count):
        device: dict[str, Any] = {"id": f"d{index}", "unit": draw(mostly(["u1"], ["u9"]))}
        device["kind"] = draw(mostly(KNOWN_KINDS, ["bogus"]))
        address = draw(mostly(["127.0.0.1", "127.0.0.2", "localhost"], ["", "300.1.1.1", "not an address!", None]))
        if address is not None:
            device["address"] = address
        probes = draw(probe_specs()) if draw(mostly([True], [False])) else {}
        if probes:
            device["probes"] = probes
        if draw(st.booleans()):
            device["online"] = draw(online_rules(list(probes)))
        if groups and draw(st.booleans()):
            device["group"] = draw(mostly([g["id"] for g in groups], ["g9"]))
        if index and draw(st.integers(0, 3)) == 0:  # an earlier device, now and then a loop or a ghost
            device["parent"] = draw(mostly([f"d{i}" for i in range(index)], [f"d{index}", "d9"]))
        if draw(st.booleans()):
            device["interval"] = draw(intervals)
        devices.append(device)
    config: dict[str, Any] = {"agent": agent, "units": [{"id": "u1"}], "devices": devices}
    if groups:
        config["groups"] = groups
    if draw(st.booleans()):
        config["defaults"] = {"probes": draw(probe_specs())}
    return config


def yunwei_check(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", "-c", str(path)])
    return code, err.getvalue()


async def one_round(path: Path) -> None:
    inventory = load_config(path)
    agent = Agent(inventory, attach_hooks=False)
    expected = sum(len(targets) for targets in agent.groups.values())
    try:
        await agent.start(schedule=True)  # schedules every round group (where .inf used to crash)
        assert agent.scheduler is not None
        agent.scheduler.pause()  # before the loop runs a scheduled round: this test runs the one round
        results = await asyncio.wait_for(agent.run_all_once(), ROUND_LIMIT)
    finally:
        await agent.drain(5)
    assert sum(len(r.samples) for r in results) == expected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(config=configs())
def test_every_config_check_accepts_runs_one_round(config: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config["agent"]["data_dir"] = str(Path(tmp, "data"))
        path = Path(tmp, "config.yaml")
        path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        code, errors = yunwei_check(path)
        assert code in (0, 2), f"yunwei check ended with {code}: {errors}"
        event("refused by check" if code == 2 else "accepted: one round run")
        if code == 2:
            assert errors and all(line.startswith(f"yunwei: {path}") for line in errors.splitlines()), errors
            return
        asyncio.run(one_round(path))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"agent:\n  data_dir: {tmp_path / 'data'}\n" + text, encoding="utf-8")
    return path


SSH_ONLY = "    probes:\n      ssh: {device_type: linux, username: a, password: b}\n"


def test_a_device_with_only_an_ssh_inspection_is_pinged_and_runs(tmp_path: Path) -> None:
    """The inspection never reports online state; a device with an address is pinged for it."""
    path = write(tmp_path, "devices:\n  - id: s1\n    kind: server\n    address: 127.0.0.1\n" + SSH_ONLY)
    assert yunwei_check(path)[0] == 0
    assert load_config(path).devices["s1"].online == "icmp"
    asyncio.run(one_round(path))


def test_a_device_with_only_an_ssh_inspection_and_nothing_to_ping_is_refused_at_check(tmp_path: Path) -> None:
    path = write(tmp_path, "devices:\n  - id: s1\n    kind: server\n" + SSH_ONLY.replace("b}", "b, address: 127.0.0.1}"))
    code, errors = yunwei_check(path)
    assert code == 2
    assert errors == (
        f"yunwei: {path}:6: devices.0.probes: only inspection probes (ssh): nothing tells whether the device is"
        " online; give it an address (it is then pinged) or a probe that runs in rounds (icmp, tcp …)\n"
    )


def test_an_online_rule_naming_an_inspection_is_refused_at_check(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "devices:\n  - id: s1\n    address: 127.0.0.1\n    online: any(icmp, ssh)\n"
        "    probes:\n      icmp: {}\n      ssh: {device_type: linux, username: a, password: b}\n",
    )
    code, errors = yunwei_check(path)
    assert code == 2 and f"{path}:6: devices.0.online: online rule names inspection probes" in errors


def test_an_infinite_interval_is_refused_at_check(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"agent:\n  data_dir: {tmp_path}\n  default_interval: .inf\n", encoding="utf-8")
    assert yunwei_check(path) == (
        2,
        f"yunwei: {path}:3: agent.default_interval: inf is not a number yunwei can use (.inf and .nan are refused)\n",
    )
