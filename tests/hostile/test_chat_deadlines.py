"""A chat endpoint that trickles its reply holds only its own channel, and only until the
channel's timeout: a total deadline per request, and channels that never wait for each other.

Two real webhook endpoints on loopback: A answers ``HTTP/1.1 200 OK`` and then one byte a
second for a minute; B answers at once. The agent's alerting component delivers both. A mail
server that trickles its greeting is cut at the same total deadline.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from bounds_support import HostileServer, read_request

from agent.runtime import Agent
from alerting.component import AlertingComponent
from alerting.notifiers import make_notifier
from alerting.notifiers.base import DeliveryError, Message
from alerting.notifiers.email import EmailChannel
from alerting.notifiers.webhook import WebhookChannel

TRICKLE_TIMEOUT = 2.0
TRICKLE_SECONDS = 60


async def trickle_reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    await writer.drain()
    for _ in range(TRICKLE_SECONDS):  # "X-Slow: ..." one byte a second: every read gets something
        writer.write(b"X")
        await writer.drain()
        await asyncio.sleep(1.0)


class Receiver:
    """A webhook endpoint that accepts at once and records when each message arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        body = await reader.readexactly(length)
        title = body.split(b'"title":"')[1].split(b'"')[0].decode()
        self.arrived[title] = time.monotonic()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()


def webhook(url: str, timeout: float = 5.0) -> Any:
    return make_notifier("x", WebhookChannel(type="webhook", url=url, timeout=timeout))


def test_a_trickled_reply_ends_at_the_total_deadline_not_per_read() -> None:
    notifier = webhook("http://127.0.0.1:1/", TRICKLE_TIMEOUT)
    with HostileServer(trickle_reply) as slow:
        notifier.options.url = f"http://127.0.0.1:{slow.port}/hook"
        started = time.monotonic()
        with pytest.raises(DeliveryError, match=f"no answer within {TRICKLE_TIMEOUT:g} s"):
            notifier.send(notifier.render(Message(kind="open", title="t", lines=["- x"])))
        elapsed = time.monotonic() - started
    assert TRICKLE_TIMEOUT - 0.2 < elapsed < TRICKLE_TIMEOUT + 1.0, f"the request took {elapsed:.1f} s"


async def trickle_greeting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220-")
    for _ in range(TRICKLE_SECONDS):  # a greeting line that never ends
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(1.0)


def test_a_trickling_mail_server_is_cut_at_the_total_deadline() -> None:
    with HostileServer(trickle_greeting) as slow:
        notifier = make_notifier(
            "mail",
            EmailChannel(type="email", host="127.0.0.1", port=slow.port, sender="yunwei@example.cn", to=["ops@example.cn"], timeout=TRICKLE_TIMEOUT),
        )
        started = time.monotonic()
        with pytest.raises(DeliveryError, match=f"no answer within {TRICKLE_TIMEOUT:g} s"):
            notifier.send(notifier.render(Message(kind="open", title="t", lines=["- x"], key="k")))
        elapsed = time.monotonic() - started
    assert TRICKLE_TIMEOUT - 0.2 < elapsed < TRICKLE_TIMEOUT + 1.0, f"the delivery took {elapsed:.1f} s"


def enqueue(agent: Agent, channel: str, notifier: Any, title: str) -> None:
    payload = notifier.render(Message(kind="open", title=title, lines=["- x"], key=title)).to_json()
    now = time.time()
    with agent.db.transaction() as db:
        db.execute(
            "INSERT INTO alert_outbox (channel, kind, thread, msgkey, created, payload, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (channel, "open", title, title, now, payload, now),
        )


async def wait_until(condition: Any, seconds: float) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def test_a_trickling_channel_never_delays_another(make_inventory) -> None:
    receiver = Receiver()
    with HostileServer(trickle_reply) as slow, HostileServer(receiver) as fast:
        inventory = make_inventory(
            {
                "devices": [{"id": "d1", "address": "127.0.0.1", "probes": {"tcp": {"port": 9}}}],
                "alerting": {
                    "channels": {
                        "a-slow": {"type": "webhook", "url": f"http://127.0.0.1:{slow.port}/hook", "timeout": TRICKLE_TIMEOUT},
                        "b-fast": {"type": "webhook", "url": f"http://127.0.0.1:{fast.port}/hook", "timeout": TRICKLE_TIMEOUT},
                    },
                    "outbox": {"poll_seconds": 0.2},
                },
            }
        )
        agent = Agent(inventory, attach_hooks=False)
        component = AlertingComponent()
        agent.components.append(component)
        await agent.start(schedule=False)
        try:
            assert component.service is not None
            notifiers = component.service.dispatcher.notifiers
            enqueue(agent, "a-slow", notifiers["a-slow"], "to-a")
            enqueue(agent, "b-fast", notifiers["b-fast"], "b-1")
            started = time.monotonic()
            component.wake.set()
            assert await wait_until(lambda: "b-1" in receiver.arrived, 1.5), "B waited for A"
            await asyncio.sleep(0.5)  # A is now mid-trickle
            enqueue(agent, "b-fast", notifiers["b-fast"], "b-2")
            queued = time.monotonic()
            component.wake.set()
            assert await wait_until(lambda: "b-2" in receiver.arrived, 1.5), "B's second message waited for A"
            assert receiver.arrived["b-2"] - queued < 1.5
            assert receiver.arrived["b-2"] - started < TRICKLE_TIMEOUT, "B was held until A's deadline"

            def a_failed() -> bool:
                row = agent.db.db.execute("SELECT last_error FROM alert_outbox WHERE channel = 'a-slow'").fetchone()
                return row is not None and row[0] is not None

            assert await wait_until(a_failed, TRICKLE_TIMEOUT + 2.0)
            failed_after = time.monotonic() - started
            [last_error] = agent.db.db.execute("SELECT last_error FROM alert_outbox WHERE channel = 'a-slow'").fetchone()
            assert f"no answer within {TRICKLE_TIMEOUT:g} s" in last_error
            assert failed_after < TRICKLE_TIMEOUT + 1.5, f"A's attempt lasted {failed_after:.1f} s"
        finally:
            await agent.drain(5)
