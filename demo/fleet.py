"""The demo: simulated devices on loopback, the real agent polling them, then the status table.

The fleet is assembled from demo parts, one per area (``DEMO_PARTS``). A part starts its
simulators, returns the inventory it adds (units, systems, groups, devices, other config
sections) and stops its simulators at the end. The agent, store, collectors and components
are the production ones; only the devices are simulated.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from agent.runtime import Agent
from agent.status import render_status
from inventory.config import load_config
from store.db import open_store
from store.lock import agent_lock

# Parts stop in reverse order: the contract part, first here, computes the month's report last.
DEMO_PARTS = ("demo.contract", "demo.basic", "demo.network", "demo.chat_sink", "demo.video", "demo.web")


@dataclass
class DemoFleet:
    """What a demo part adds to the demo's config."""

    units: list[dict[str, Any]] = field(default_factory=list)
    systems: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class DemoContext:
    data_dir: Path
    seconds: float
    interval: float = 2.0

    @property
    def config_path(self) -> Path:
        """Where the demo writes its config, so status, faults and report can be run on it after."""
        return self.data_dir / "demo-config.yaml"


class LoopbackServer:
    """A simulated device's TCP service on one loopback address, switched on and off by
    ``open()``/``close()``. The default ``handle`` accepts and hangs up (enough for a TCP
    probe); subclasses answer a protocol."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.server: asyncio.AbstractServer | None = None

    async def open(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(self.handle, self.host, self.port, reuse_address=True)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()


class DemoPart(Protocol):
    async def start(self, ctx: DemoContext) -> DemoFleet: ...

    async def stop(self) -> None: ...


def run_demo(seconds: float = 60.0, data_dir: str | None = None) -> int:
    # Kept after the demo (a temporary directory would take the report and store with it):
    # the last lines name them and the commands to look at them.
    data_dir = data_dir or tempfile.mkdtemp(prefix="yunwei-demo-")
    with agent_lock(Path(data_dir)):  # not the data directory of a running agent
        code = asyncio.run(_demo(seconds, Path(data_dir)))
    print(afterwards(Path(data_dir)), file=sys.stderr)
    return code


def yunwei_command() -> str:
    """How to call yunwei from this shell: ``yunwei`` when it is on PATH, else the venv's script
    (``./scripts/demo`` does not activate its venv)."""
    script = Path(sys.executable).parent / "yunwei"
    on_path = shutil.which("yunwei")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "yunwei"
    if not script.exists():
        return f"{sys.executable} -m cli.main"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def afterwards(data_dir: Path) -> str:
    """The demo's last lines: where its store, config and report are, and what to run on them."""
    config = data_dir / "demo-config.yaml"
    yunwei = yunwei_command()
    lines = [
        f"\nThe demo's store, config and report are kept in {data_dir}; try:",
        f"  {yunwei} status -c {config}",
        f"  {yunwei} faults list -c {config}",
        f"  {yunwei} report -c {config} --contract demo --period {time.strftime('%Y-%m')} -o report.xlsx",
        f"  {yunwei} ledger export -c {config}",
        f"  {yunwei} demo traps        (pushed events: SNMP traps and syslog, about 10 s)",
    ]
    if yunwei != "yunwei" and " " not in yunwei:
        lines.append(f"  (or `source {Path(yunwei).parent / 'activate'}` first, then plain `yunwei ...`)")
    return "\n".join(lines)


async def _demo(seconds: float, data_dir: Path) -> int:
    log = logging.getLogger("yunwei.demo")
    ctx = DemoContext(data_dir=data_dir, seconds=seconds)
    parts: list[DemoPart] = [importlib.import_module(name).part() for name in DEMO_PARTS]
    config: dict[str, Any] = {
        "agent": {
            "id": "demo",
            "data_dir": str(data_dir),
            "default_interval": ctx.interval,
            "debounce": {"down_after": 2, "up_after": 2},
        },
        "units": [],
        "systems": [],
        "groups": [],
        "devices": [],
    }
    started_parts: list[DemoPart] = []
    try:
        for part in parts:
            fleet = await part.start(ctx)
            started_parts.append(part)
            for key in ("units", "systems", "groups", "devices"):
                config[key].extend(getattr(fleet, key))
            for section, value in fleet.sections.items():
                _merge(config.setdefault(section, {} if isinstance(value, dict) else []), value)
            for note in fleet.notes:
                print(f"demo: {note}", file=sys.stderr)
        data_dir.mkdir(parents=True, exist_ok=True)
        ctx.config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        inventory = load_config(ctx.config_path)
        agent = Agent(inventory)
        print(
            f"demo: {len(inventory.devices)} simulated devices on loopback, polled every {ctx.interval:g} s "
            f"for {seconds:g} s (store: {data_dir})",
            file=sys.stderr,
        )
        await agent.start()
        began = time.monotonic()
        try:
            while (elapsed := time.monotonic() - began) < seconds:
                await asyncio.sleep(min(10.0, seconds - elapsed))
                states = agent.tracker.devices.values()
                up = sum(1 for s in states if s.state == "up")
                down = sum(1 for s in states if s.state == "down")
                print(
                    f"demo: {min(time.monotonic() - began, seconds):4.0f}/{seconds:g} s  {up} up, {down} down",
                    file=sys.stderr,
                )
            if sys.stdin.isatty() and sys.stderr.isatty():
                await _serve_until_interrupted(agent)
        finally:
            await agent.drain(10)
        log.debug("demo finished")

        with open_store(inventory.data_dir) as store:
            print(render_status(inventory, store))
    finally:
        for part in reversed(started_parts):
            await part.stop()
    return 0


async def _serve_until_interrupted(agent: Agent) -> None:
    """In a terminal the demo goes on (rounds, alerts, the console) until Ctrl-C."""
    consoles = [url for c in agent.components if (url := getattr(c, "url", None))]
    where = f" (web console: {consoles[0]}/)" if consoles else ""
    print(f"demo: the fleet keeps running{where}; press Ctrl-C to stop and see the status table", file=sys.stderr)
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, interrupted.set)
    try:
        await interrupted.wait()
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _merge(into: Any, value: Any) -> None:
    if isinstance(into, list):
        into.extend(value)
    else:
        for key, item in value.items():
            if isinstance(item, list):
                into.setdefault(key, []).extend(item)
            elif isinstance(item, dict):
                _merge(into.setdefault(key, {}), item)
            else:
                into[key] = item
