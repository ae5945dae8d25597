"""The console at 10,000 devices: page times, 50 live clients, and the agent's writes while it is busy.

    .venv/bin/python bench/web.py [--devices 10000] [--clients 50] [--seconds 30]

Targets (issue 11): overview and a device-list page < 300 ms server time, a device page with a
month of history < 500 ms, 50 connected live clients < 5 % of a core, the agent's store writes
(a round's samples and transitions) no slower while the console is busy. Times are measured
end to end over loopback (server time plus a little client time), medians of repeated requests;
"cold" means the fleet snapshot was invalidated first, as it is after every round.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerting import lifecycle  # noqa: E402
from core.model import Sample, State, Transition  # noqa: E402
from inventory.config import config_from_data  # noqa: E402
from store.accounts import Accounts  # noqa: E402
from store.db import open_store  # noqa: E402
from store.faults import FaultStore  # noqa: E402
from web import accounts  # noqa: E402
from web.app import create_app  # noqa: E402
from web.context import Console  # noqa: E402

PASSWORD = "bench-password-123"
DAY = 86400.0


def fleet(devices: int, data_dir: str) -> dict:
    groups = [{"id": f"g{n}", "name": f"分组 {n}", "unit": "u", "online_rate": {"threshold": 0.95}} for n in range(20)]
    entries = [{"id": f"sw-{n}", "kind": "switch", "address": f"10.0.{n}.1", "unit": "u", "group": f"g{n}"} for n in range(20)]
    for n in range(devices - 20):
        entries.append({"id": f"cam-{n:05d}", "name": f"摄像机 {n}", "kind": "camera", "address": f"10.{1 + n // 250}.{n % 250}.2",
                        "unit": "u", "group": f"g{n % 20}", "parent": f"sw-{n % 20}"})
    return {"agent": {"id": "bench", "data_dir": data_dir}, "units": [{"id": "u", "name": "市公安局"}],
            "defaults": {"probes": {"icmp": {}, "tcp": {"port": 554}}}, "groups": groups, "devices": entries}


def seed(inventory, now: float) -> None:  # type: ignore[no-untyped-def]
    with open_store(inventory.data_dir) as store:
        accounts.add_user(Accounts(store), "bench", "viewer", PASSWORD)
        ids = list(inventory.devices)
        store.add_transitions([Transition(d, now - 30 * DAY, State.UP, State.UNKNOWN) for d in ids])
        down = random.Random(1).sample(ids, 300)
        store.add_transitions([Transition(d, now - 600, State.DOWN, State.UP, "timeout") for d in down])
        store.write_samples([Sample(d, p, d not in down, now - 5, {"rtt_seconds": 0.002} if d not in down else {},
                                    None if d not in down else "timeout") for d in ids for p in ("icmp", "tcp")])
        month = [Sample("cam-00001", "icmp", True, now - 30 * DAY + 60 * i, {"rtt_seconds": 0.001 + (i % 97) / 1e4})
                 for i in range(int(30 * DAY / 60))]
        store.write_samples(month)
        faults = FaultStore(store, "bench", inventory.agent.timezone)
        for n in range(50):
            lifecycle.open_manual(faults, inventory, 1 + n % 4, f"故障 {n}", "bench", now - n * 60, device=down[n])


async def login(session: aiohttp.ClientSession, url: str) -> None:
    page = await (await session.get(f"{url}/login")).text()
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = await session.post(f"{url}/login", data={"csrf": token, "user": "bench", "password": PASSWORD})
    assert response.url.path == "/", "login failed"


async def timed(session: aiohttp.ClientSession, url: str, console: Console | None, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        if console is not None:
            console.data.invalidate()
        began = time.perf_counter()
        response = await session.get(url)
        await response.read()
        assert response.status == 200 and response.url.path != "/login", (url, response.status)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def live_clients(url: str, clients: int, seconds: float) -> None:
    """In another process: ``clients`` pages that fetch the overview's live part on every round event."""

    async def one(session: aiohttp.ClientSession) -> None:
        async with session.get(f"{url}/events", timeout=aiohttp.ClientTimeout(total=None)) as events:
            async for line in events.content:
                if line.startswith(b"event: round"):
                    await (await session.get(f"{url}/?partial=1")).read()

    async def main() -> None:
        sessions = []
        for _ in range(clients):
            session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            await login(session, url)
            sessions.append(session)
        tasks = [asyncio.create_task(one(s)) for s in sessions]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        for session in sessions:
            await session.close()

    asyncio.run(main())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--round-every", type=float, default=5.0, help="a round event this often during the live test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yunwei-bench-web-") as tmp:
        inventory = config_from_data(fleet(args.devices, tmp))
        now = time.time()
        began = time.perf_counter()
        seed(inventory, now)
        print(f"{len(inventory.devices)} devices, a month of 1-minute samples for one device; seeded in {time.perf_counter() - began:.1f} s")
        console = Console(open_store(inventory.data_dir), inventory)
        runner = web.AppRunner(create_app(console), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await login(session, url)
            rows = [
                ("overview, cold snapshot", "/", True, 300),
                ("overview, warm", "/", False, 300),
                ("device list page 1, cold", "/devices", True, 300),
                ("device list, filter + search", "/devices?state=down&q=摄像机", False, 300),
                ("device page (a month of history)", "/devices/cam-00001", False, 500),
                ("RTT chart, 30 days (43,200 samples)", "/devices/cam-00001/rtt.svg?range=30d", False, 500),
                ("fault queue (50 open)", "/faults", False, 300),
            ]
            print(f"\n{'page':<40} {'median ms':>10} {'target ms':>10} {'ratio':>7}")
            for name, path, cold, target in rows:
                seconds = await timed(session, url + path, console if cold else None, 7)
                print(f"{name:<40} {seconds * 1000:>10.1f} {target:>10} {seconds * 1000 / target:>7.2f}")

            # the agent's writes (one round: 10,000 samples + 100 transitions), idle and with the console busy
            store = open_store(inventory.data_dir)

            def one_round(tag: int) -> float:
                t0 = time.perf_counter()
                store.write_samples([Sample(d, "icmp", True, time.time(), {"rtt_seconds": 0.002}) for d in inventory.devices])
                store.add_transitions([Transition(f"cam-{n:05d}", time.time(), State.UP if tag % 2 else State.DOWN, State.UNKNOWN)
                                       for n in range(100)])
                return time.perf_counter() - t0

            idle = statistics.median([await asyncio.to_thread(one_round, i) for i in range(5)])

            async def hammer(stop: asyncio.Event) -> None:
                while not stop.is_set():
                    console.data.invalidate()
                    await (await session.get(url + "/devices?state=down")).read()

            stop = asyncio.Event()
            load = asyncio.create_task(hammer(stop))
            saturated = statistics.median([await asyncio.to_thread(one_round, i) for i in range(5)])
            stop.set()
            await load

        process = multiprocessing.get_context("spawn").Process(target=live_clients, args=(url, args.clients, args.seconds + 130))
        process.start()
        waited = time.perf_counter()
        while len(console.broker.clients) < args.clients and time.perf_counter() - waited < 120:
            await asyncio.sleep(0.5)  # 50 logins are 50 argon2 checks: seconds of CPU, not part of the figure
        await asyncio.sleep(1)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        rounds, writes = 0, []
        while time.perf_counter() - wall0 < args.seconds:
            # what the agent's component does after a round: a new snapshot off the round's path, then the event
            console.data.invalidate()
            await console.run(console.data.snapshot)
            console.broker.publish("round", {"collector": "icmp", "at": time.time()})
            rounds += 1
            await asyncio.sleep(args.round_every / 2)
            await asyncio.sleep(args.round_every / 2)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        clients = len(console.broker.clients)
        for _ in range(3):
            console.data.invalidate()
            task = asyncio.create_task(console.run(console.data.snapshot))
            console.broker.publish("round", {"collector": "icmp", "at": time.time()})
            writes.append(await asyncio.to_thread(one_round, 0))
            await task
            await asyncio.sleep(1)
        process.terminate()
        await asyncio.to_thread(process.join, 30)
        store.close()
        print(f"\n{clients} live clients, a round every {args.round_every:g} s (the snapshot once per round, each client "
              f"re-fetches the overview's live part): {cpu / wall * 100:.1f} % of a core "
              f"(target < 5 %; ratio {cpu / wall * 100 / 5:.2f})")
        print(f"agent round write (10,000 samples + 100 transitions): idle {idle * 1000:.0f} ms; during a round's live "
              f"refresh by {clients} clients {statistics.median(writes) * 1000:.0f} ms (ratio {statistics.median(writes) / idle:.2f}); "
              f"console saturated by back-to-back cold device-list requests {saturated * 1000:.0f} ms (ratio {saturated / idle:.2f})")
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
