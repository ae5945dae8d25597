"""The durable outbox: retries with backoff, rate limits, order, and SIGKILL at the worst moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from alerting_platforms import DING_TOO_FAST, WECOM_FREQ, Platform
from alerting_support import Clock
from peers import wait_for
from pydantic import TypeAdapter

from alerting.config import Channel, OutboxSettings
from alerting.notifiers import make_notifier
from alerting.notifiers.base import Message
from alerting.outbox import CRASH_ENV, Outbox
from store.db import Store
from store.faults import MIGRATIONS
from store.outbox import NewMessage, OutboxStore

CHILD = Path(__file__).with_name("outbox_child.py")


@pytest.fixture
def server():
    started: list[Platform] = []

    def start(kind: str = "dingtalk", secret: str | None = "SECkey") -> Platform:
        platform = Platform(kind, secret).start()
        started.append(platform)
        return platform

    yield start
    for platform in started:
        platform.stop()


def enqueue(store: Store, notifier, titles: list[str], clock: Clock) -> None:
    rows = []
    for title in titles:
        message = Message(kind="open", title=title, lines=["- x"], key=title)
        rows.append(NewMessage("ops", "open", title, title, clock.now, notifier.render(message).to_json(), clock.now))
    OutboxStore(store).queue(rows, [], {})


def make(tmp_path: Path, platform: Platform, clock: Clock, **options):
    store = Store(tmp_path / "outbox.db")
    store.migrate("alerting", MIGRATIONS)
    spec = {"type": platform.kind, "url": platform.url, "timeout": 0.5, **options}
    if platform.secret:
        spec["secret"] = platform.secret
    notifier = make_notifier("ops", TypeAdapter(Channel).validate_python(spec))
    return store, notifier, Outbox(store, {"ops": notifier}, OutboxSettings(backoff_seconds=5, backoff_max_seconds=600), clock)


def titles_accepted(platform: Platform) -> list[str]:
    return [body["markdown"]["title"] if "markdown" in body else body["text"]["content"] for body in platform.accepted]


def test_failures_are_retried_with_backoff_in_order_and_never_duplicated(tmp_path, server, clock):
    platform = server()
    store, notifier, outbox = make(tmp_path, platform, clock)
    enqueue(store, notifier, ["m1", "m2", "m3"], clock)
    platform.script.extend(["500", ("hang", 1.0), DING_TOO_FAST, {"errcode": 310000, "errmsg": "sign not match"}])
    assert outbox.deliver_due() == 0  # HTTP 500
    head = outbox.messages.rows("pending")[0]
    assert (head.attempts, head.next_attempt - clock.now, head.last_error) == (1, 5, "dingtalk ops: HTTP 500 <html>502 Bad Gateway</html>")
    clock.advance(4.9)
    assert outbox.deliver_due() == 0 and len(platform.requests) == 1  # not due yet
    clock.advance(0.1)
    assert outbox.deliver_due() == 0  # timeout
    assert outbox.messages.rows("pending")[0].next_attempt - clock.now == 10
    clock.advance(10)
    assert outbox.deliver_due() == 0  # 130101: the robot is throttled, wait at least a minute
    assert outbox.messages.rows("pending")[0].next_attempt - clock.now == 60
    clock.advance(60)
    assert outbox.deliver_due() == 0  # errcode 310000 once (a rotated secret, say)
    assert outbox.messages.rows("pending")[0].next_attempt - clock.now == 40
    # a restart: the schedule lives in the store
    restarted = Outbox(store, {"ops": notifier}, OutboxSettings(backoff_seconds=5), clock)
    clock.advance(39)
    assert restarted.deliver_due() == 0
    clock.advance(1)
    assert restarted.deliver_due() == 3
    assert titles_accepted(platform) == ["m1", "m2", "m3"]
    assert restarted.messages.rows("pending") == []
    assert restarted.deliver_due() == 0
    assert len(platform.accepted) == 3
    store.close()


def test_rate_limit_survives_a_restart(tmp_path, server, clock):
    platform = server()
    store, notifier, outbox = make(tmp_path, platform, clock)
    enqueue(store, notifier, [f"m{i:02d}" for i in range(25)], clock)
    assert outbox.deliver_due() == 20  # DingTalk: 20 a minute
    restarted = Outbox(store, {"ops": notifier}, OutboxSettings(), clock)
    clock.advance(30)
    assert restarted.deliver_due() == 0  # no burst after a restart
    clock.advance(30.1)
    assert restarted.deliver_due() == 5
    assert titles_accepted(platform) == [f"m{i:02d}" for i in range(25)]
    store.close()


def test_wecom_45009_pauses_the_channel(tmp_path, server, clock):
    platform = server("wecom", secret=None)
    store, notifier, outbox = make(tmp_path, platform, clock)
    enqueue(store, notifier, ["a", "b"], clock)
    platform.script.append(WECOM_FREQ)
    assert outbox.deliver_due() == 0
    assert outbox.messages.rows("pending")[0].last_error == "wecom errcode 45009: api freq out of limit"
    clock.advance(59)
    assert outbox.deliver_due() == 0
    clock.advance(1)
    assert outbox.deliver_due() == 2
    store.close()


def test_unconfigured_channel_keeps_its_messages(tmp_path, server, clock):
    platform = server()
    store, notifier, outbox = make(tmp_path, platform, clock)
    enqueue(store, notifier, ["kept"], clock)
    orphan = Outbox(store, {}, OutboxSettings(), clock)
    assert orphan.deliver_due() == 0
    assert [r.state for r in orphan.messages.rows()] == ["pending"]
    assert outbox.deliver_due() == 1
    store.close()


# -- SIGKILL -----------------------------------------------------------------------------------


def child_config(tmp_path: Path, platform: Platform, devices: int) -> Path:
    config = {
        "agent": {"id": "child", "data_dir": str(tmp_path / "data")},
        "defaults": {"probes": {"tcp": {"port": 1}}},
        "devices": [{"id": f"dev-{i:03d}", "name": f"设备{i:03d}", "kind": "server", "address": "127.0.0.1"} for i in range(devices)],
        "alerting": {
            "hold_seconds": 0,
            "rules": [{"level": 1}],
            "storm": {"window_seconds": 0},  # no grouping: one message per fault
            "outbox": {"backoff_seconds": 0.05, "backoff_max_seconds": 0.2},
            "channels": {"ops": {"type": "dingtalk", "url": platform.url, "secret": platform.secret, "timeout": 2, "rate_per_minute": 1000}},
            "routes": [{"channels": ["ops"]}],
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


def run_child(config: Path, *args: str, crash: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash:
        env[CRASH_ENV] = crash
    return subprocess.run([sys.executable, str(CHILD), str(config), *args], env=env, capture_output=True, text=True, timeout=timeout)


def delivered(platform: Platform) -> Counter[str]:
    return Counter(body["markdown"]["title"] for body in platform.accepted)


def test_killed_after_writing_before_sending_delivers_everything_once(tmp_path, server):
    platform = server()
    config = child_config(tmp_path, platform, 10)
    killed = run_child(config, "enqueue", "10", crash="before_send:1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert platform.accepted == []
    with Store(tmp_path / "data" / "yunwei.db") as store:
        assert store.db.execute("SELECT COUNT(*) FROM alert_outbox WHERE state = 'pending'").fetchone()[0] == 10
    finished = run_child(config, "deliver")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    counts = delivered(platform)
    assert len(counts) == 10 and set(counts.values()) == {1}


def test_killed_after_the_platform_accepted_before_marking_resends_only_that_one(tmp_path, server):
    platform = server()
    config = child_config(tmp_path, platform, 10)
    killed = run_child(config, "enqueue", "10", crash="after_send:3")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(platform.accepted) == 3
    finished = run_child(config, "deliver")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    counts = delivered(platform)
    assert len(counts) == 10  # every message delivered
    assert sorted(counts.values()) == [1] * 9 + [2]  # the one in the at-least-once window, twice
    third = platform.accepted[2]["markdown"]["title"]
    assert counts[third] == 2


def test_random_kills_while_sending_lose_nothing(tmp_path, server):
    platform = server()
    config = child_config(tmp_path, platform, 40)
    platform.script.extend([("delay", 0.05)] * 200)  # every reply takes 50 ms: kills land mid-request
    written = run_child(config, "enqueue", "40", crash="before_send:1")  # all 40 in the outbox, none sent
    assert written.returncode == -signal.SIGKILL, written.stderr
    rng = random.Random(5)
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    kills = 0
    for _ in range(4):
        child = subprocess.Popen([sys.executable, str(CHILD), str(config), "deliver"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.6 + rng.random() * 0.5)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.communicate(timeout=30)
    finished = run_child(config, "deliver")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    counts = delivered(platform)
    assert len(counts) == 40
    assert sum(counts.values()) - 40 <= kills  # at most one duplicate per kill
    assert kills >= 1


def test_a_timeout_after_the_platform_took_the_message_is_the_other_duplicate_case(tmp_path, server, clock):
    """Documented at-least-once: the platform processed it but answered after our timeout."""
    platform = server()
    store, notifier, outbox = make(tmp_path, platform, clock)
    enqueue(store, notifier, ["slow"], clock)
    platform.script.append(("delay", 1.0))  # accepted, answered after the 0.5 s timeout
    assert outbox.deliver_due() == 0
    clock.advance(5)
    assert outbox.deliver_due() == 1
    wait_for(lambda: len(platform.accepted) == 2, timeout=5, what="the slow first request")
    assert titles_accepted(platform) == ["slow", "slow"]
    assert outbox.deliver_due() == 0
    store.close()
