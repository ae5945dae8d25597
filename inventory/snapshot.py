"""Writing the view of a config that loaded without a problem (read back by inventory.view)."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from inventory.config import Inventory, load_config
from inventory.files import atomic_write, write_text
from inventory.view import VERSION, cache_path, code_print, env_print, file_print
from inventory.yamlsource import recording_reads

log = logging.getLogger("yunwei.inventory")

_ENV_REF = re.compile(r"\$\{env:([A-Za-z0-9_.\-]+)")
ENV_READ_BY_LOAD = ("YUNWEI_SECRETS",)  # read by the loader itself (inventory.config)


def load_and_remember(path: str | Path) -> Inventory:
    """``load_config``, then keep the view of what loaded for the read-only commands.

    Problems are raised as by ``load_config`` (nothing is written then); a view that cannot be
    written (no cache directory, a read-only home) only costs the next command its speed."""
    with recording_reads() as files:
        inventory = load_config(path)
    try:
        write_view(path, inventory, files)
    except Exception as exc:  # a cache is never worth failing the command for
        log.debug("config view not written: %s", exc)
    return inventory


def write_view(config: str | Path, inventory: Inventory, files: list[str]) -> Path:
    prints = []
    env_names = set(ENV_READ_BY_LOAD)
    for file in dict.fromkeys(str(Path(f).resolve()) for f in files):
        entry = file_print(file)
        if entry is None:
            raise OSError(f"{file} changed while it was read")
        prints.append(entry)
        env_names.update(_ENV_REF.findall(Path(file).read_text(encoding="utf-8", errors="replace")))
    data = {
        "version": VERSION,
        "config": str(Path(config).resolve()),
        "files": prints,
        "env": env_print(env_names),
        "code": code_print(),
        "view": view_data(inventory),
    }
    target = cache_path(config)
    atomic_write(target, write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"))))
    os.chmod(target, 0o600)  # it holds digests of the secrets file and variables: its owner's alone
    return target


def view_data(inventory: Inventory) -> dict[str, Any]:
    """The plain data ``inventory.view.view_from_data`` reads (lists, to keep the file small)."""
    agent = inventory.agent
    groups = []
    for group in inventory.groups.values():
        rate = group.online_rate
        rate_data = None if rate is None else [
            rate.threshold,
            rate.warn_margin,
            [[p.start.isoformat(), p.end.isoformat(), p.yearly, p.threshold] for p in rate.important_periods],
        ]
        groups.append([group.id, group.name, group.unit, group.system, group.kind, rate_data])
    return {
        "source": inventory.source,
        "data_dir": str(inventory.data_dir.resolve()),
        "agent": {"id": agent.id, "timezone": agent.timezone, "language": agent.language, "default_interval": agent.default_interval},
        "units": [[u.id, u.name] for u in inventory.units.values()],
        "systems": [[s.id, s.name, s.unit] for s in inventory.systems.values()],
        "groups": groups,
        "devices": [
            [d.id, d.name, d.kind, d.unit, d.system, d.group, d.parent,
             [[p.name, p.collector, p.interval] for p in d.probes.values()]]
            for d in inventory.devices.values()
        ],
        "maintenance": [w.model_dump(mode="json") for w in inventory.config.maintenance],
    }
