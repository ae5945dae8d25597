"""Probe errors reach people in Chinese (English with language: en), from one table."""

from __future__ import annotations

import pytest

from collectors.texts import knows, localise_error


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("connection refused (port 554)", "连接被拒绝 (端口 554)"),
        ("connection refused (tcp port 5060)", "连接被拒绝 (TCP 端口 5060)"),
        ("no SIP answer within 1 s (udp port 5060, 3 sent)", "无应答: 1 秒内无 SIP 应答 (UDP 端口 5060, 发送 3 次)"),
        ("credentials wrong (camera refused user 'admin')", "认证失败: 用户名或密码错误 (用户 'admin')"),
        ("timeout after 3 s (no RTSP answer, port 554)", "无应答: 3 秒超时 (无 RTSP 应答, 端口 554)"),
        ("timeout after 3 s (upsd port 3493)", "无应答: 3 秒超时 (upsd 端口 3493)"),
        ("100% loss (3 sent): host is unreachable", "丢包 100% (发送 3 个): 主机不可达"),
        ("cannot reach the agent: connection refused", "通信中断: SNMP 代理连接被拒绝"),
        ("comms lost: the UPS reports no status", "通信中断: UPS 状态为 no status"),
        ("HTTP 500 Internal Server Error", "HTTP 状态码 500"),
        ("keyword '登录' not found in the page", "页面中未找到关键字 '登录'"),
        ("SSH failed: AuthenticationException: Authentication failed.", "认证失败: SSH 用户名或密码错误"),
        ("no route to host", "无路由到主机"),
    ],
)
def test_probe_errors_in_chinese_and_english_unchanged(english: str, chinese: str) -> None:
    assert localise_error(english) == chinese
    assert localise_error(english, "en") == english
    assert knows(english)


def test_a_text_the_table_does_not_know_is_shown_as_it_is() -> None:
    assert localise_error("风扇异响, 用户电话报修") == "风扇异响, 用户电话报修"
    assert localise_error(None) == ""
