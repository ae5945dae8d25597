"""Helpers for the console's tests: a config on disk, users, an in-process console, logging in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from aiohttp.test_utils import TestClient, TestServer

from inventory.config import load_config
from store.accounts import Accounts
from store.db import open_store
from web import accounts
from web.app import create_app
from web.context import Console

PASSWORD = "correct-horse-battery"
USERS = {"viewer1": "viewer", "eng1": "engineer", "admin1": "admin"}

CONFIG: dict[str, Any] = {
    "agent": {"id": "web-test", "data_dir": "./data", "default_interval": 1, "debounce": {"down_after": 1, "up_after": 1}},
    "units": [{"id": "psb", "name": "市公安局"}],
    "systems": [{"id": "xl", "name": "雪亮工程", "unit": "psb"}],
    "groups": [{"id": "cams", "name": "蓝天卫士", "unit": "psb", "system": "xl", "online_rate": {"threshold": 0.95}}],
    "devices": [
        {"id": "sw-1", "name": "汇聚交换机", "kind": "switch", "address": "127.0.0.1", "unit": "psb", "system": "xl",
         "probes": {"tcp": {"port": 9}}},
        {"id": "cam-x", "name": "<script>alert(1)</script>", "kind": "camera", "address": "127.0.0.1", "unit": "psb",
         "system": "xl", "group": "cams", "parent": "sw-1", "probes": {"tcp": {"port": 9}}},
    ],
}


def write_config(tmp_path: Path, config: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config or CONFIG, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def add_users(config_path: Path) -> None:
    inventory = load_config(config_path)
    with open_store(inventory.data_dir) as store:
        for name, role in USERS.items():
            accounts.add_user(Accounts(store), name, role, PASSWORD)


async def console_client(config_path: Path, tls: bool = False) -> tuple[TestClient, Console]:
    inventory = load_config(config_path)
    console = Console(open_store(inventory.data_dir), inventory, tls=tls)
    client = TestClient(TestServer(create_app(console)))
    await client.start_server()
    return client, console


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def csrf_of(client: TestClient, path: str) -> str:
    response = await client.get(path)
    text = await response.text()
    found = CSRF.search(text)
    assert found, f"no csrf field on {path}: {text[:300]}"
    return found.group(1)


async def login(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    token = await csrf_of(client, "/login")
    return await client.post("/login", data={"csrf": token, "user": name, "password": password, "next": "/"},
                             allow_redirects=False)
