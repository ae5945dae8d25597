"""Probe errors in the reader's language: the one translation table of collectors' error texts.

Collectors write their errors in English (logs, ``--json`` and the ledger keep them so, and the
compliance calculator compares causes as written). Whatever a customer or an engineer reads —
chat messages, ``yunwei status``, ``faults list`` — goes through ``localise_error``: Chinese by
default (连接被拒绝, 超时, 无应答, 认证失败 …), the English text unchanged with ``language: en``.
A text no pattern knows is shown as it is, never dropped.

Add a pattern here when a collector gains a new error text (tests/collectors/test_texts.py
lists the errors people see most).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

# whole errors: (pattern, Chinese template); {name} is the group as written, {d} its bracketed
# details translated, {u} a user name, {name_t} the group translated again ({name_tc}: after ": ")
_MESSAGES: list[tuple[str, str]] = [
    (r"connection refused(?: \((?P<d>.+)\))?", "连接被拒绝{d}"),
    (r"timeout after (?P<s>[\d.]+) s(?: \((?P<d>.+)\))?", "无应答: {s} 秒超时{d}"),
    (r"timeout(?: \((?P<d>.+)\))?", "无应答: 超时{d}"),
    (r"no SIP answer within (?P<s>[\d.]+) s(?: \((?P<d>.+)\))?", "无应答: {s} 秒内无 SIP 应答{d}"),
    (r"credentials wrong(?: \(camera refused user (?P<u>'[^']*')(?:: .*)?\))?", "认证失败: 用户名或密码错误{u}"),
    (r"(?P<p>[\d.]+)% loss \((?P<n>\d+) sent\)(?:: (?P<r_tc>.+))?", "丢包 {p}% (发送 {n} 个){r_tc}"),
    (r"no address(?:: .*)?", "未配置地址"),
    (r"no echo sent", "未能发出 ICMP 探测包"),
    (r"TLS certificate not trusted: (?P<x>.+)", "TLS 证书不受信任: {x}"),
    (r"TLS certificate expired (?P<n>\d+) days ago", "TLS 证书已过期 {n} 天"),
    (r"cannot resolve (?P<h>\S+?): (?P<r_t>.+)", "无法解析域名 {h}: {r_t}"),
    (r"SSH failed: AuthenticationException(?:: .*)?", "认证失败: SSH 用户名或密码错误"),
    (r"SSH failed: (?P<x>.+)", "SSH 登录失败: {x}"),
    (r"comms lost: the UPS reports (?P<x>.+)", "通信中断: UPS 状态为 {x}"),
    (r"cannot reach the agent: (?P<r_t>.+)", "通信中断: SNMP 代理{r_t}"),
    (r"far end (?P<h>\S+) does not answer: (?P<x>.+)", "对端 {h} 无应答: {x}"),
    (r"edge interface (?P<i>.*) is down", "边缘接口 {i} 已断开"),
    (r"HTTP (?P<c>\d+) \(expected (?P<e>.+)\)", "HTTP 状态码 {c} (应为 {e})"),
    (r"HTTP (?P<c>\d{3})(?: (?P<r>.+))?", "HTTP 状态码 {c}"),
    (r"keyword (?P<k>.+) not found in the page", "页面中未找到关键字 {k}"),
    (r"connection closed without a SIP answer", "连接被关闭, 无 SIP 应答"),
    (r"connection closed in the middle of an RTSP answer", "RTSP 应答中途连接被关闭"),
    (r"not a SIP answer.*", "应答不是 SIP 协议"),
    (r"(?P<m>OPTIONS|DESCRIBE) answered (?P<c>\d+)(?: .*)?", "RTSP {m} 返回 {c}"),
    (r"cannot open an ICMP socket: (?P<r_t>.+)", "无法发送 ICMP (权限不足?): {r_t}"),
    (r"no answer", "无响应"),
    (r"no route to host", "无路由到主机"),
    (r"network is unreachable", "网络不可达"),
    (r"host is unreachable|destination (?:host )?unreachable", "主机不可达"),
    (r"connection reset by peer", "连接被对端重置"),
    (r"name or service not known", "域名无法解析"),
    (r"permission denied|operation not permitted", "权限不足"),
    (r"ttl exceeded in transit|hop limit exceeded in transit", "传输中 TTL 超时"),
]
# the details in brackets: "(udp port 5060, 3 sent)" → "(UDP 端口 5060, 发送 3 次)"
_DETAILS: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"\b(tcp|udp) port (\d+)", lambda m: f"{m.group(1).upper()} 端口 {m.group(2)}"),
    (r"\bupsd port (\d+)", r"upsd 端口 \1"),
    (r"\bport (\d+)", r"端口 \1"),
    (r"\b(\d+) sent\b", r"发送 \1 次"),
    (r"\bno (\w+) answer\b", r"无 \1 应答"),
]


@cache
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    """Compiled on first use, not at import: a status table with no error never pays for them."""
    return [(re.compile(rf"^(?:{pattern})$", re.IGNORECASE | re.DOTALL), template) for pattern, template in _MESSAGES]


@cache
def _details_compiled() -> list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]]:
    return [(re.compile(pattern, re.IGNORECASE), replacement) for pattern, replacement in _DETAILS]


def localise_error(text: str | None, language: str = "zh") -> str:
    """``connection refused (port 554)`` → ``连接被拒绝 (端口 554)``; English as it is."""
    if not text:
        return ""
    if language != "zh":
        return text
    return _translate(text.strip())


def knows(text: str) -> bool:
    """Whether the table has a Chinese form of this error (for the collectors' conformance test)."""
    return any(pattern.match(text.strip()) for pattern, _ in _compiled())


def _translate(text: str) -> str:
    for pattern, template in _compiled():
        match = pattern.match(text)
        if match is None:
            continue
        values = {}
        for name, value in match.groupdict().items():
            if not value:
                values[name] = ""
            elif name == "d":
                values[name] = f" ({_detail(value)})"
            elif name == "u":
                values[name] = f" (用户 {value})"
            elif name.endswith("_tc"):
                values[name] = f": {_translate(value)}"
            elif name.endswith("_t"):
                values[name] = _translate(value)
            else:
                values[name] = value
        return template.format(**values).strip()
    return text


def _detail(text: str) -> str:
    for pattern, replacement in _details_compiled():
        text = pattern.sub(replacement, text)
    return text
