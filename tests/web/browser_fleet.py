"""A real agent (alerting + web console) in a background thread, polling TCP listeners on loopback.

The tests switch a device off by closing its listener; the agent's TCP probe sees the refusal,
the debounced state goes down, alerting opens the fault and the console's pages follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socketserver
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from agent.runtime import Agent
from demo.chat_sink import ChatSink
from inventory.config import load_config
from store.accounts import Accounts
from store.db import Store, open_store
from store.faults import Fault, FaultStore
from web import accounts
from web.component import WebComponent

PASSWORD = "correct-horse-battery"
USERS = {"viewer1": "viewer", "eng1": "engineer", "admin1": "admin"}
SCENARIO_DEVICES = {
    "core-sw": "核心交换机",
    "dev-live": "卡口摄像机 下线测试",
    "dev-ack": "视频会议终端 确认测试",
    "dev-viewer": "IP广播终端 只读测试",
    "dev-phone": "办公电脑 手机确认",
    "dev-maint": "服务器 割接维护",
    "cam-x": "<script>alert(1)</script>",
}


class _Quiet(socketserver.BaseRequestHandler):
    def handle(self) -> None:  # accept and hang up: enough for a TCP probe
        pass


class Listener:
    def __init__(self) -> None:
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Quiet)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Fleet:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.listeners = {device: Listener() for device in SCENARIO_DEVICES}
        self.sink = ChatSink(token=secrets.token_hex(8), secret="SEC" + secrets.token_hex(16))
        self.config_path = directory / "config.yaml"
        self.url = ""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="browser-fleet-agent", daemon=True)

    def config(self) -> dict[str, Any]:
        devices = []
        for device, name in SCENARIO_DEVICES.items():
            entry = {"id": device, "name": name, "kind": "server", "address": "127.0.0.1", "unit": "psb",
                     "system": "xl", "group": "cams" if device in ("dev-live", "cam-x") else None,
                     "probes": {"tcp": {"port": self.listeners[device].port, "timeout": 0.5}}}
            if device == "cam-x":
                entry["parent"] = "core-sw"
            devices.append({k: v for k, v in entry.items() if v is not None})
        return {
            "agent": {"id": "browser-test", "data_dir": str(self.directory / "data"), "default_interval": 1,
                      "debounce": {"down_after": 1, "up_after": 1}},
            "units": [{"id": "psb", "name": "市公安局"}],
            "systems": [{"id": "xl", "name": "雪亮工程", "unit": "psb"}],
            "groups": [{"id": "cams", "name": "蓝天卫士", "unit": "psb", "system": "xl",
                        "online_rate": {"threshold": 0.95, "important_periods": [
                            {"name": "国庆", "start": "2026-10-01", "end": "2026-10-07", "threshold": 0.98, "yearly": True}]}}],
            "devices": devices,
            "alerting": {"hold_seconds": 0, "dependency_grace_seconds": 0, "tick_seconds": 1,
                         "outbox": {"poll_seconds": 0.5}, "storm": {"window_seconds": 0},
                         "channels": {"chat": {"type": "dingtalk", "url": self.sink.url, "secret": self.sink.secret}},
                         "routes": [{"channels": ["chat"]}]},
            "web": {"listen": "127.0.0.1:0", "bigscreen_refresh_seconds": 2},
        }

    def start(self) -> None:
        self.sink.start()
        self.config_path.write_text(yaml.safe_dump(self.config(), allow_unicode=True, sort_keys=False), encoding="utf-8")
        inventory = load_config(self.config_path)
        with open_store(inventory.data_dir) as store:
            for name, role in USERS.items():
                accounts.add_user(Accounts(store), name, role, PASSWORD)
        self.thread.start()
        if not self.ready.wait(30) or self.error is not None or not self.url:
            raise RuntimeError(f"the agent did not start: {self.error!r}")

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test thread
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        agent = Agent(load_config(self.config_path))
        await agent.start()
        web = next(c for c in agent.components if isinstance(c, WebComponent))
        self.url = web.url or ""
        self.ready.set()
        await self.stop_event.wait()
        await agent.drain(5)

    def stop(self) -> None:
        if self.loop is not None and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(20)
        for listener in self.listeners.values():
            with contextlib.suppress(OSError):
                listener.close()
        self.sink.stop()

    def store(self) -> Store:
        return open_store(self.directory / "data")

    def wait_fault(self, device: str, timeout: float = 30.0, check: Callable[[Fault], bool] = lambda f: True) -> Fault:
        deadline = time.monotonic() + timeout
        with self.store() as store:
            faults = FaultStore(store, "browser-test", "Asia/Shanghai")
            while time.monotonic() < deadline:
                found = [f for f in faults.active() if f.device == device and check(f)]
                if found:
                    return found[0]
                time.sleep(0.3)
        raise AssertionError(f"no fault for {device} within {timeout:g} s")

    def fault(self, fault_id: str) -> Fault:
        with self.store() as store:
            found = FaultStore(store, "browser-test", "Asia/Shanghai").get(fault_id)
        assert found is not None
        return found
