"""The console's pages and actions in-process: what lands in the ledger, filters, paging, live events."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from pathlib import Path

import aiohttp
import pytest
import yaml
from web_support import CONFIG, add_users, console_client, csrf_of, login, write_config

from alerting import lifecycle
from alerting.dispatch import Dispatcher
from alerting.engine import FaultEngine
from alerting.levels import LevelPolicy
from alerting.messages import Composer
from cli.main import main
from core.model import Sample, State, Transition
from inventory.config import load_config
from store.db import open_store
from store.faults import FaultStore, ledger_body

DEMO_CONTRACT = Path(__file__).resolve().parents[2] / "demo" / "demo_contract.yaml"


def many_devices(count: int) -> dict:
    devices = [
        {"id": f"cam-{n:05d}", "name": f"摄像机 {n}", "kind": "camera" if n % 2 else "phone",
         "address": f"127.1.{n // 250}.{n % 250 + 1}", "unit": "psb", "system": "xl", "group": "cams",
         "probes": {"tcp": {"port": 9}}}
        for n in range(count)
    ]
    return {**CONFIG, "devices": devices}


@pytest.fixture
def config_path(tmp_path):
    path = write_config(tmp_path)
    add_users(path)
    return path


def _faults(config_path: Path) -> tuple[FaultStore, object]:
    inventory = load_config(config_path)
    store = open_store(inventory.data_dir)
    return FaultStore(store, inventory.agent.id, inventory.agent.timezone), inventory


def _events(faults: FaultStore, fault_id: str) -> list[tuple[str, str, list[str]]]:
    return [(kind, actor, sorted(k for k, v in detail.items() if v is not None)) for _, kind, actor, detail in faults.history(fault_id)]


async def test_web_actions_land_in_the_ledger_as_the_cli_s_do(config_path, capsys):
    faults, inventory = _faults(config_path)
    by_cli = lifecycle.open_manual(faults, inventory, 3, "打印机无法使用", "eng1", time.time(), device="sw-1")
    by_web = lifecycle.open_manual(faults, inventory, 3, "打印机卡纸", "eng1", time.time(), device="sw-1")
    config = str(config_path)
    assert main(["faults", "ack", "-c", config, by_cli.id, "--by", "eng1", "--note", "已到现场"]) == 0
    assert main(["faults", "resolve", "-c", config, by_cli.id, "--by", "eng1", "--note", "更换硒鼓"]) == 0
    assert main(["faults", "note", "-c", config, by_cli.id, "用户确认", "--by", "eng1"]) == 0
    client, _ = await console_client(config_path)
    try:
        await login(client, "eng1")
        for action, data in (("ack", {"note": "已到现场"}), ("resolve", {"note": "更换硒鼓"}), ("note", {"note": "用户确认"})):
            token = await csrf_of(client, f"/faults/{by_web.id}")
            response = await client.post(f"/faults/{by_web.id}/{action}", data={"csrf": token, **data}, allow_redirects=False)
            assert response.status == 303 and "done=" in response.headers["Location"], response.headers["Location"]
    finally:
        await client.close()
    assert _events(faults, by_web.id) == _events(faults, by_cli.id)
    cli_body, web_body = ledger_body(faults.get(by_cli.id), faults.timezone), ledger_body(faults.get(by_web.id), faults.timezone)
    assert sorted(cli_body) == sorted(web_body)
    assert (web_body["state"], web_body["acknowledged_by"], web_body["resolved_by"]) == ("resolved", "eng1", "eng1")
    capsys.readouterr()
    assert main(["faults", "show", "-c", config, by_web.id]) == 0
    assert "by eng1" in capsys.readouterr().out


async def test_an_action_the_ledger_refuses_comes_back_as_the_page_s_error(config_path):
    faults, inventory = _faults(config_path)
    fault = lifecycle.open_manual(faults, inventory, 2, "链路中断", "cli", time.time(), device="sw-1")
    lifecycle.acknowledge(faults, fault.id, "someone", time.time())
    client, _ = await console_client(config_path)
    try:
        await login(client, "eng1")
        token = await csrf_of(client, f"/faults/{fault.id}")
        response = await client.post(f"/faults/{fault.id}/ack", data={"csrf": token})
        assert "already acknowledged by someone" in await response.text()
    finally:
        await client.close()


async def test_the_queue_is_sorted_by_urgency_and_bulk_ack_acknowledges_the_chosen(config_path):
    faults, inventory = _faults(config_path)
    now = time.time()
    low = lifecycle.open_manual(faults, inventory, 4, "显示器闪烁", "cli", now, device="sw-1")
    high = lifecycle.open_manual(faults, inventory, 1, "平台中断", "cli", now, device="sw-1")
    middle = lifecycle.open_manual(faults, inventory, 3, "打印机", "cli", now, device="sw-1")
    client, _ = await console_client(config_path)
    try:
        await login(client, "eng1")
        text = await (await client.get("/faults")).text()
        order = [m for m in re.findall(r"/faults/(F-[0-9-]+)", text) if m in (low.id, high.id, middle.id)]
        assert order[:3] == [high.id, middle.id, low.id]
        token = await csrf_of(client, "/faults")
        response = await client.post("/faults-bulk/ack", data=[("csrf", token), ("fault", high.id), ("fault", low.id)])
        assert response.status == 200
        assert faults.get(high.id).acknowledged_by == "eng1" and faults.get(low.id).acknowledged_by == "eng1"
        assert faults.get(middle.id).acknowledged is None
        token = await csrf_of(client, "/faults")
        response = await client.post("/faults-new", data={"csrf": token, "level": "3", "cause": "用户报修：电话无拨号音",
                                                          "device": "sw-1"}, allow_redirects=False)
        opened = faults.get(response.headers["Location"].split("/")[2].split("?")[0])
        assert (opened.source, opened.level, opened.extra["opened_by"]) == ("manual", 3, "eng1")
    finally:
        await client.close()


async def test_device_list_filters_and_pages(tmp_path):
    path = write_config(tmp_path, many_devices(250))
    add_users(path)
    client, _ = await console_client(path)
    try:
        await login(client, "viewer1")
        text = await (await client.get("/devices?kind=phone")).text()
        assert "共 125 台" in text and "1 / 2" in text
        text = await (await client.get("/devices?kind=phone&page=2")).text()
        assert text.count('href="/devices/cam-') == 25
        text = await (await client.get("/devices?q=127.1.0.249")).text()
        assert "cam-00248" in text and "共 1 台" in text
        text = await (await client.get("/devices?q=摄像机 249&state=unknown")).text()
        assert "cam-00249" in text
        text = await (await client.get("/devices?state=down")).text()
        assert "共 0 台" in text
    finally:
        await client.close()


async def test_a_window_made_in_the_console_is_stored_and_suppresses_like_a_config_window(config_path):
    client, console = await console_client(config_path)
    inventory = load_config(config_path)
    try:
        await login(client, "eng1")
        token = await csrf_of(client, "/maintenance")
        start = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 60))
        response = await client.post("/maintenance", data={"csrf": token, "name": "今晚割接", "devices": "sw-1",
                                                           "start": "2020-01-01T00:00", "end": "2099-01-01T02:00"})
        assert "今晚割接" in await response.text()
        token = await csrf_of(client, "/maintenance")
        response = await client.post("/maintenance", data={"csrf": token, "name": "bad", "devices": "no-such",
                                                           "start": start, "end": start})
        assert "unknown device no-such" in await response.text()
    finally:
        await client.close()
    with open_store(inventory.data_dir) as store:  # after a restart: a new engine reads the stored window
        engine = FaultEngine(store, inventory)
        now = time.time()
        assert "sw-1" in engine.calendar.covering(now)
        engine.on_round([], [Transition("sw-1", now, State.DOWN, State.UP, "connection refused")], now)
        fault = next(f for f in engine.faults.active() if f.device == "sw-1")
        assert fault.waived == "maintenance"


async def test_live_events_reach_a_connected_page(config_path):
    client, console = await console_client(config_path)
    try:
        await login(client, "viewer1")
        response = await client.get("/events")
        assert response.headers["Content-Type"].startswith("text/event-stream")
        await response.content.readuntil(b"\n\n")  # hello
        console.broker.publish("round", {"collector": "tcp"})
        line = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
        assert line.startswith(b"event: round")
        response.close()
    finally:
        await client.close()


async def test_english_is_asked_once_and_remembered(config_path):
    client, _ = await console_client(config_path)
    try:
        await login(client, "viewer1")
        assert "<h1>Faults</h1>" in await (await client.get("/faults?lang=en")).text()
        assert "<h1>Devices" in await (await client.get("/devices")).text()
        client.session.cookie_jar.clear_domain("127.0.0.1")  # another browser: the user's setting follows
        await login(client, "viewer1")
        assert "<h1>Devices" in await (await client.get("/devices")).text()
        assert "<h1>设备" in await (await client.get("/devices?lang=zh")).text()
    finally:
        await client.close()


async def test_the_overview_shows_the_month_score_from_compliance(tmp_path):
    contract = yaml.safe_load(DEMO_CONTRACT.read_text(encoding="utf-8"))
    devices = [{**d, "unit": "demo-unit", "system": None} for d in CONFIG["devices"]]
    config = {**CONFIG, "units": [{"id": "demo-unit", "name": "示范使用单位"}], "systems": [],
              "groups": [{"id": "cams", "name": "蓝天卫士", "unit": "demo-unit"}],
              "devices": [{k: v for k, v in d.items() if v is not None} for d in devices],
              "contracts": [{"id": "demo", "contract": contract}]}
    path = write_config(tmp_path, config)
    add_users(path)
    now = time.time()
    with open_store(load_config(path).data_dir) as store:  # an hour of the agent watching, both devices up
        store.stop_run(store.start_run("web-test", now - 3600), now - 60)
        store.add_transitions([Transition(d["id"], now - 3600, State.UP, State.UNKNOWN) for d in devices])
    client, console = await console_client(path)
    try:
        await login(client, "viewer1")
        text = await (await client.get("/")).text()
        assert "本月考核得分" in text
        (name, result, problem), = console.data.month_scores()
        assert problem is None and f">{result['score']:g} <small>" in text and result["grade"] in text
    finally:
        await client.close()


async def test_the_rtt_chart_is_drawn_from_stored_samples(config_path):
    inventory = load_config(config_path)
    now = time.time()
    with open_store(inventory.data_dir) as store:
        store.write_samples([Sample("sw-1", "tcp", True, now - 600 + 60 * i, {"rtt_seconds": 0.002 + i / 1000}) for i in range(5)])
        store.write_samples([Sample("sw-1", "tcp", False, now - 30, {}, "connection refused")])
    client, _ = await console_client(config_path)
    try:
        await login(client, "viewer1")
        response = await client.get("/devices/sw-1/rtt.svg?range=1h")
        body = await response.text()
        assert response.headers["Content-Type"].startswith("image/svg+xml")
        assert body.count(",") >= 5 and "<polyline" in body  # five points joined
        assert 'stroke="#c62828"' in body  # the failed sample, as a red tick
        assert "6.0 ms" in body or "6.9 ms" in body  # the axis reaches the largest RTT (6 ms, +15 %)
        page = await (await client.get("/devices/sw-1")).text()
        assert "connection refused" in page
        assert 'class="chart timeline"' in page and "本月状态" in page  # the month's state bar, drawn inline
    finally:
        await client.close()


async def test_the_month_chart_reads_rollups_that_outlive_the_raw_samples(config_path):
    inventory = load_config(config_path)
    now = time.time()
    ten_days_ago = now - 10 * 86400
    with open_store(inventory.data_dir) as store:
        store.write_samples([Sample("sw-1", "tcp", i % 60 != 30, ten_days_ago + 60 * i, {"rtt_seconds": 0.004} if i % 60 != 30 else {})
                             for i in range(6 * 60)])  # six hours, one failure an hour
        while store.samples.compact(now):
            pass
        assert store.prune_samples(now - 2 * 86400) == 360  # retention passed: the raw samples are gone
    client, _ = await console_client(config_path)
    try:
        await login(client, "viewer1")
        body = await (await client.get("/devices/sw-1/rtt.svg?range=30d")).text()
        assert "<polyline" in body and ("4.0 ms" in body or "4.6 ms" in body)  # the hours' mean RTT, from the rollups
        assert 'stroke="#c62828"' in body  # the buckets with a failure still show it
    finally:
        await client.close()


async def test_a_record_with_evidence_is_filed_and_the_evidence_only_downloads(config_path):
    inventory = load_config(config_path)
    upload = b"<html><script>alert(1)</script></html>"
    client, console = await console_client(config_path)
    try:
        await login(client, "eng1")
        token = await csrf_of(client, "/records")
        form = aiohttp.FormData()
        for key, value in (("csrf", token), ("kind", "inspection"), ("unit", "psb"), ("device", "sw-1"),
                           ("result", "ok"), ("note", "月度巡检")):
            form.add_field(key, value)
        form.add_field("evidence", upload, filename="report.html", content_type="text/html")
        response = await client.post("/records", data=form)
        page = await response.text()
        assert "月度巡检" in page and "eng1" in page
        digest = hashlib.sha256(upload).hexdigest()
        with open_store(inventory.data_dir) as store:
            (uid, _, _, _, body), = list(store.events(["record"]))
        assert (body["kind"], body["device"], body["evidence_sha256"], body["by"]) == ("inspection", "sw-1", digest, "eng1")
        download = await client.get(f"/evidence/{digest}")
        assert download.headers["Content-Type"] == "application/octet-stream"
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert await download.read() == upload
        assert (await client.get("/evidence/../../etc/passwd")).status == 404
    finally:
        await client.close()


async def test_the_month_s_report_downloads_as_yunwei_report_makes_it(tmp_path, capsys):
    contract = yaml.safe_load(DEMO_CONTRACT.read_text(encoding="utf-8"))
    config = {**CONFIG, "units": [{"id": "demo-unit", "name": "示范使用单位"}], "systems": [], "groups": [],
              "devices": [{k: v for k, v in {**d, "unit": "demo-unit", "system": None, "group": None}.items() if v is not None}
                          for d in CONFIG["devices"]],
              "contracts": [{"id": "demo", "contract": contract}]}
    path = write_config(tmp_path, config)
    add_users(path)
    now = time.time()
    with open_store(load_config(path).data_dir) as store:
        store.stop_run(store.start_run("web-test", now - 3600), now - 60)
    period = time.strftime("%Y-%m", time.localtime(now))
    client, _ = await console_client(path)
    try:
        await login(client, "viewer1")
        response = await client.get(f"/reports?contract=demo&period={period}&format=json")
        assert response.headers["Content-Disposition"].startswith("attachment")
        web_result = json.loads(await response.read())
        response = await client.get(f"/reports?contract=demo&period={period}&format=xlsx")
        assert (await response.read())[:2] == b"PK"
    finally:
        await client.close()
    out = tmp_path / "cli.json"
    assert main(["report", "-c", str(path), "--contract", "demo", "--period", period, "--format", "json", "-o", str(out)]) == 0
    cli_result = json.loads(out.read_text(encoding="utf-8"))
    for key in ("score", "grade", "cut_percent", "parts"):
        assert web_result[key] == cli_result[key]


def test_fault_messages_link_the_console_when_public_url_is_set(tmp_path):
    inventory = load_config(write_config(tmp_path, {**CONFIG, "web": {"public_url": "https://jump.example.gov.cn:8470/"}}))
    faults = FaultStore(open_store(inventory.data_dir), inventory.agent.id, inventory.agent.timezone)
    fault = lifecycle.open_manual(faults, inventory, 1, "平台中断", "cli", time.time(), device="sw-1")
    composer = Composer(inventory, LevelPolicy(inventory.config.alerting, inventory))
    text = composer.opened(fault, time.time(), 30)
    assert text.lines[-1] == f"- **处理**: https://jump.example.gov.cn:8470/faults/{fault.id}"
    page = f"https://jump.example.gov.cn:8470/faults/{fault.id}"
    # DingTalk ActionCard / Feishu card / WeCom template card buttons: 确认 lands on the ack button
    assert composer.console_actions(fault, "open") == [("确认", f"{page}#ack"), ("查看", page)]
    assert composer.console_actions(fault, "resolved") == [("查看", page)]
    plain = load_config(write_config(tmp_path, CONFIG))
    assert not any("/faults/" in line for line in Composer(plain, LevelPolicy(plain.config.alerting, plain)).opened(fault, time.time(), 30).lines)


async def test_the_fault_page_lists_the_chat_messages_queued_for_it(tmp_path):
    chat = {"channels": {"ops": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}}, "routes": [{"channels": ["ops"]}]}
    path = write_config(tmp_path, {**CONFIG, "alerting": chat})
    add_users(path)
    faults, inventory = _faults(path)
    fault = lifecycle.open_manual(faults, inventory, 1, "平台中断", "eng1", time.time(), device="sw-1")
    assert Dispatcher(faults, inventory).flush() == 1  # rendered into the outbox, not sent yet
    client, _ = await console_client(path)
    try:
        await login(client, "viewer1")
        text = await (await client.get(f"/faults/{fault.id}")).text()
        assert "<td>ops</td><td>open</td><td>pending</td>" in text
    finally:
        await client.close()

async def test_the_overview_lists_devices_down_at_the_same_moment(config_path):
    inventory = load_config(config_path)
    now = time.time()
    with open_store(inventory.data_dir) as store:
        store.add_transitions([Transition(d, now - 60, State.DOWN, State.UP, "timeout") for d in ("sw-1", "cam-x")])
    client, _ = await console_client(config_path)
    try:
        await login(client, "viewer1")
        text = await (await client.get("/")).text()
        assert "离线设备 (2)" in text and "汇聚交换机" in text and "&lt;script&gt;" in text
    finally:
        await client.close()


async def test_the_tree_shows_a_suppressed_child_under_its_cause(tmp_path):
    path = write_config(tmp_path, {**CONFIG, "alerting": {"hold_seconds": 0, "dependency_grace_seconds": 0}})
    add_users(path)
    inventory = load_config(path)
    now = time.time()
    with open_store(inventory.data_dir) as store:
        engine = FaultEngine(store, inventory)
        down = [Transition(d, now - 5, State.DOWN, State.UP, "timeout") for d in ("sw-1", "cam-x")]
        store.add_transitions(down)
        engine.on_round([], down, now)
        cause = next(f for f in engine.faults.active() if f.device == "sw-1")
        assert cause.affected == ["cam-x"]
    client, _ = await console_client(path)
    try:
        await login(client, "viewer1")
        text = await (await client.get("/topology")).text()
        switch, child = text.index("汇聚交换机"), text.index("&lt;script&gt;alert(1)&lt;/script&gt;")
        assert switch < child and f'href="/faults/{cause.id}"' in text[child:]
        assert 'class="st down">汇聚交换机' in text
    finally:
        await client.close()


async def test_a_lines_traffic_and_a_ups_runtime_are_charted_against_what_the_contract_requires(tmp_path):
    config = {**CONFIG, "devices": [
        *CONFIG["devices"],
        {"id": "line-1", "name": "互联网专线", "kind": "line", "address": "127.0.0.1", "unit": "psb", "system": "xl",
         "attrs": {"bandwidth": "100M"}, "probes": {"line": {"burst": 10}}},
        {"id": "ups-1", "name": "热线 UPS", "kind": "ups", "address": "127.0.0.1", "unit": "psb", "system": "xl",
         "attrs": {"required_runtime_hours": 3}, "probes": {"ups": {"nut_ups": "hotline"}}},
    ]}
    path = write_config(tmp_path, config)
    add_users(path)
    inventory = load_config(path)
    now = time.time()
    with open_store(inventory.data_dir) as store:
        store.write_samples([
            *[Sample("line-1", "line", True, now - 600 + 60 * i,
                     {"down_bps": 6e7 + 1e6 * i, "up_bps": 2e7, "bandwidth_down_bps": 1e8, "bandwidth_up_bps": 1e8})
              for i in range(5)],
            *[Sample("ups-1", "ups", True, now - 600 + 60 * i,
                     {"runtime_seconds": 7200.0 - 300 * i, "required_runtime_seconds": 10800.0, "charge_percent": 90.0 - i})
              for i in range(5)],
        ])
    client, _ = await console_client(path)
    try:
        await login(client, "viewer1")
        line_page = await (await client.get("/devices/line-1")).text()
        assert "/devices/line-1/chart/traffic.svg" in line_page and "ups-runtime" not in line_page
        traffic = await (await client.get("/devices/line-1/chart/traffic.svg")).text()
        ups_page = await (await client.get("/devices/ups-1")).text()
        runtime = await (await client.get("/devices/ups-1/chart/ups-runtime.svg")).text()
        missing = await client.get("/devices/ups-1/chart/nothing.svg")
    finally:
        await client.close()
    assert 'class="limit"' in traffic and 'class="second"' in traffic and "Mbit/s" in traffic  # down, up, bandwidth
    assert "/devices/ups-1/chart/ups-runtime.svg" in ups_page and "/devices/ups-1/chart/ups-charge.svg" in ups_page
    assert 'class="limit"' in runtime and "180.0 min" not in runtime  # the 180 min line sits under the axis top
    assert missing.status == 404


async def test_the_device_list_filters_degraded_devices(tmp_path):
    """Up by its online rule while another probe fails: listed under 降级, not as down."""
    config = {**CONFIG, "devices": [
        {**CONFIG["devices"][0], "online": "tcp", "probes": {"tcp": {"port": 9}, "snmp": {"community": "public"}}},
        CONFIG["devices"][1],
    ]}
    path = write_config(tmp_path, config)
    add_users(path)
    inventory = load_config(path)
    now = time.time()
    with open_store(inventory.data_dir) as store:
        store.add_transitions([Transition("sw-1", now - 600, State.UP, State.UNKNOWN), Transition("cam-x", now - 600, State.UP, State.UNKNOWN)])
        store.set_probe_states([("sw-1", "tcp", True, now - 600), ("sw-1", "snmp", False, now - 300), ("cam-x", "tcp", True, now - 600)])
    client, _ = await console_client(path)
    try:
        await login(client, "viewer1")
        degraded = await (await client.get("/devices?state=degraded")).text()
        down = await (await client.get("/devices?state=down")).text()
    finally:
        await client.close()
    assert "汇聚交换机" in degraded and "降级: snmp" in degraded and "/devices/cam-x" not in degraded
    assert "汇聚交换机" not in down
