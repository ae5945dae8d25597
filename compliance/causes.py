"""A fault's cause in the customer's language: probes and devices report in English
("connection refused", "100% loss (3 sent)", "auth failed"); a report for a Chinese customer
says 连接被拒绝 / 无应答 / 认证失败, and keeps the raw text in an appendix."""

from __future__ import annotations

import re

# (pattern, Chinese); the first that matches names the cause; the raw text stays in the appendix
PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.IGNORECASE), zh) for p, zh in (
    (r"refused", "连接被拒绝"),
    (r"reset by peer|connection reset", "连接被重置"),
    (r"auth|password|permission denied|login (failed|incorrect)|unauthori[sz]ed|\b401\b|\b403\b", "认证失败"),
    (r"certificate|\bssl\b|\btls\b|handshake", "证书或加密连接错误"),
    (r"name or service not known|getaddrinfo|nxdomain|dns|resolv", "域名解析失败"),
    (r"network unreachable|host unreachable|no route|address unreachable|unreachable", "网络不可达"),
    (r"100% loss|no answer|no reply|does not answer|not respond|no response", "无应答"),
    (r"timed? ?out", "超时无应答"),
    (r"comms lost|communication", "通信中断"),
    (r"on battery|\bOB\b|low battery|\bLB\b|mains", "市电中断（电池供电）"),
    (r"interface .* is down|link down|ifoperstatus", "接口中断"),
    (r"\bHTTP\s*5\d\d\b|\b5\d\d\b", "服务端错误（HTTP 5xx）"),
    (r"\bHTTP\s*4\d\d\b|\b404\b", "请求错误（HTTP 4xx）"),
    (r"rtsp|describe|stream", "视频流不可用"),
    (r"sip|options", "SIP 信令无应答"),
    (r"loss", "丢包"),
    (r"no result", "采集无结果"),
)]
CJK = re.compile(r"[\u3400-\u9fff]")


def cause_text(raw: str | None, language: str = "zh") -> tuple[str, bool]:
    """(the cause as the report shows it, whether the raw text differs and belongs in the appendix)."""
    text = (raw or "").strip()
    if not text or language == "en" or CJK.search(text):
        return text, False
    for pattern, zh in PATTERNS:
        if pattern.search(text):
            return zh, True
    return "其他错误（原文见附录）", True
