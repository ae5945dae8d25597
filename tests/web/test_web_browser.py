"""The console in a real browser: Debian's Chromium driven by Playwright, against a real agent.

Screenshots of the main pages are kept in tests/.artifacts/web/ (not committed).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from browser_fleet import PASSWORD, Fleet

from cli.main import main

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    pytest.skip("playwright is not installed (pip install -e '.[test]')", allow_module_level=True)

CHROMIUM = os.environ.get("YUNWEI_CHROMIUM", "/usr/bin/chromium")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts" / "web"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    running = Fleet(tmp_path_factory.mktemp("browser-fleet"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as exc:  # a Chromium that does not start is a missing peer
            pytest.skip(f"Chromium at {CHROMIUM} did not start: {exc}")
        yield launched
        launched.close()


def open_page(browser: Browser, fleet: Fleet, user: str, phone: bool = False) -> Page:
    options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True} if phone else {
        "viewport": {"width": 1366, "height": 900}}
    context = browser.new_context(base_url=fleet.url, locale="zh-CN", **options)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{fleet.url}/")
    return page


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_login_shows_the_overview(browser, fleet):
    page = open_page(browser, fleet, "eng1")
    expect(page.locator("h1")).to_have_text("总览")
    expect(page.locator(".rate[data-group=cams] .gname")).to_have_text("蓝天卫士")
    expect(page.locator(".rate[data-group=cams]")).to_contain_text("重要时段阈值 98.0%")
    expect(page.locator("header")).to_contain_text("eng1 (engineer)")
    shot(page, "overview")
    page.context.close()


def test_wrong_password_stays_on_the_login_page(browser, fleet):
    context = browser.new_context(base_url=fleet.url)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=user]", "viewer1")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator(".flash.error")).to_have_text("用户名或密码错误")
    context.close()


def test_a_device_going_down_appears_on_the_overview_without_reload(browser, fleet):
    page = open_page(browser, fleet, "eng1")
    page.evaluate("window.__noReload = true")
    expect(page.locator("#live")).not_to_contain_text("卡口摄像机 下线测试")
    fleet.listeners["dev-live"].close()
    expect(page.locator("#live ul.downlist")).to_contain_text("卡口摄像机 下线测试", timeout=30000)
    expect(page.locator("#live table.faults")).to_contain_text("蓝天卫士")  # the group's online-rate fault
    expect(page.locator(".rate[data-group=cams]")).to_have_class("rate breach")
    assert page.evaluate("window.__noReload") is True  # the same document: updated over SSE, not reloaded
    shot(page, "overview-device-down")
    page.context.close()


def test_ack_from_the_fault_page_reaches_the_cli_and_the_chat(browser, fleet, capsys):
    fleet.listeners["dev-ack"].close()
    fault = fleet.wait_fault("dev-ack")
    page = open_page(browser, fleet, "eng1")
    page.goto(f"/faults/{fault.id}")
    shot(page, "fault")
    page.fill("form[action$='/ack'] input[name=note]", "已到现场")
    page.click("#ack")
    expect(page.locator("#fault-state")).to_have_attribute("data-state", "acknowledged")
    assert main(["faults", "show", "-c", str(fleet.config_path), fault.id]) == 0
    shown = capsys.readouterr().out
    assert "acknowledged" in shown and "by eng1" in shown and "已到现场" in shown
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any("确认" in m["markdown"]["title"] and "确认测试" in m["markdown"]["text"]
                                                  for m in fleet.sink.received):
        time.sleep(0.3)
    titles = [m["markdown"]["title"] for m in fleet.sink.received]
    assert any("确认" in t for t in titles), titles
    page.goto(f"/faults/{fault.id}")  # the page lists the chat messages of the fault: the alert and the acknowledgement
    messages = page.locator("table:below(h2:has-text('消息'))").first
    expect(messages).to_contain_text("chat")
    expect(messages).to_contain_text("sent")
    page.context.close()


def test_a_viewer_cannot_acknowledge(browser, fleet):
    fleet.listeners["dev-viewer"].close()
    fault = fleet.wait_fault("dev-viewer")
    page = open_page(browser, fleet, "viewer1")
    page.goto(f"/faults/{fault.id}")
    expect(page.locator("#fault-id")).to_have_text(fault.id)
    assert page.locator("#ack").count() == 0
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    response = page.request.post(f"/faults/{fault.id}/ack", form={"csrf": token or ""}, max_redirects=0)
    assert response.status == 403
    assert fleet.fault(fault.id).acknowledged is None
    page.context.close()


def test_a_post_without_the_csrf_token_is_refused(browser, fleet):
    fault = fleet.wait_fault("dev-viewer")
    page = open_page(browser, fleet, "eng1")
    response = page.request.post(f"/faults/{fault.id}/ack", form={"note": "x"}, max_redirects=0)
    assert response.status == 403 and "页面已过期" in response.text()
    assert fleet.fault(fault.id).acknowledged is None
    page.context.close()


def test_a_script_in_a_device_name_is_shown_as_text(browser, fleet):
    page = open_page(browser, fleet, "viewer1")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/devices?q=cam-x")
    expect(page.locator("table.devices tbody a").first).to_have_text("<script>alert(1)</script>")
    page.goto("/devices/cam-x")
    expect(page.locator("#device-name")).to_have_text("<script>alert(1)</script>")
    expect(page.locator("img.chart")).to_be_visible()
    shot(page, "device")
    page.goto("/devices")
    shot(page, "devices")
    page.goto("/topology")
    shot(page, "topology")
    assert dialogs == []
    page.context.close()


def test_a_window_made_on_the_page_suppresses_the_fault(browser, fleet):
    page = open_page(browser, fleet, "eng1")
    page.goto("/maintenance")
    page.fill("input[name=name]", "今晚割接")
    page.fill("input[name=devices]", "dev-maint")
    page.click("#create-window")
    expect(page.locator("table.windows")).to_contain_text("今晚割接")
    shot(page, "maintenance")
    fleet.listeners["dev-maint"].close()
    fault = fleet.wait_fault("dev-maint")
    assert fault.waived == "maintenance"
    page.goto(f"/faults/{fault.id}")
    expect(page.locator("#fault-state")).to_contain_text("维护期内")
    page.context.close()


def test_the_phone_layout_can_acknowledge(browser, fleet):
    fleet.listeners["dev-phone"].close()
    fault = fleet.wait_fault("dev-phone")
    page = open_page(browser, fleet, "eng1", phone=True)
    page.goto(f"/faults/{fault.id}")
    button = page.locator("#ack")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None and box["width"] >= 300  # a full-width button on a 390-pixel screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "phone-fault")
    button.tap()
    expect(page.locator("#fault-state")).to_have_attribute("data-state", "acknowledged")
    assert fleet.fault(fault.id).acknowledged_by == "eng1"
    page.context.close()


def test_the_wall_screen_refreshes_by_itself(browser, fleet):
    page = open_page(browser, fleet, "viewer1")
    page.goto("/bigscreen")
    first = page.locator("#stamp").inner_text()
    expect(page.locator("#stamp")).not_to_have_text(first, timeout=10000)
    assert page.locator("#live").get_attribute("data-refreshed")
    shot(page, "bigscreen")
    page.context.close()


def test_english_on_request(browser, fleet):
    page = open_page(browser, fleet, "viewer1")
    page.goto("/faults?lang=en")
    expect(page.locator("h1")).to_have_text("Faults")
    page.goto("/devices")  # remembered
    expect(page.locator("h1")).to_contain_text("Devices")
    page.context.close()
