"""Device kinds: their Chinese names, the words asset ledgers use for them, and typo hints.

A customer's ledger says 枪机, 球机, 半球, NVR, 核心交换机, UPS不间断电源 ...; the config says
``camera``, ``recorder``, ``switch``, ``ups``. ``normalise_kind`` maps the former to the latter
(exact word first, then the word a longer entry ends with: 海康枪机 → 枪机 → camera);
``suggest_kind`` names the nearest valid kind for a typo (``swich`` → ``switch``).
"""

from __future__ import annotations

import difflib
import re

# The default online rule per kind (spec/devices.md); a probe name that the device lacks
# falls back to "any probe answers".
KIND_DEFAULT_ONLINE: dict[str, str] = {
    "switch": "icmp",
    "router": "icmp",
    "firewall": "icmp",
    "line": "icmp",
    "camera": "icmp",
    "recorder": "icmp",  # NVR/DVR: pinged; add rtsp or tcp 8000 probes where the site wants more
    "vc_terminal": "any(icmp, sip)",
    "mcu": "any(icmp, sip)",
    "ups": "any(snmp, ups)",
    "server": "icmp",
    "pc": "icmp",
    "phone": "icmp",
    "broadcast": "icmp",
    "ap": "icmp",
    "website": "http",
    "platform": "http",
}
KNOWN_KINDS = sorted(KIND_DEFAULT_ONLINE) + ["other"]

# What an exported ledger writes in 设备类型 (and imports back).
KIND_LABELS: dict[str, str] = {
    "switch": "交换机",
    "router": "路由器",
    "firewall": "防火墙",
    "line": "专线",
    "camera": "摄像机",
    "recorder": "录像机",
    "vc_terminal": "视频会议终端",
    "mcu": "MCU",
    "ups": "UPS",
    "server": "服务器",
    "pc": "电脑",
    "phone": "IP电话",
    "broadcast": "IP广播终端",
    "ap": "无线AP",
    "website": "网站",
    "platform": "平台",
    "other": "其他",
}

_WORDS: dict[str, tuple[str, ...]] = {
    "switch": ("交换机", "核心交换机", "汇聚交换机", "接入交换机", "三层交换机", "二层交换机", "poe交换机", "光交换机"),
    "router": ("路由器", "路由", "边界路由器"),
    "firewall": ("防火墙", "下一代防火墙", "ngfw", "fw"),
    "line": ("专线", "线路", "链路", "互联网专线", "mstp专线", "裸光纤"),
    "camera": (
        "摄像机", "摄像头", "监控点", "监控", "枪机", "球机", "半球", "半球机", "枪型摄像机", "球型摄像机",
        "半球摄像机", "网络摄像机", "高清摄像机", "云台摄像机", "ipc", "卡口", "抓拍机", "人脸抓拍机", "筒机",
    ),
    "recorder": ("录像机", "硬盘录像机", "网络硬盘录像机", "nvr", "dvr", "存储录像机", "视频存储"),
    "vc_terminal": ("视频会议终端", "会议终端", "视频终端", "视讯终端", "会议室终端", "终端"),
    "mcu": ("mcu", "多点控制单元", "视频会议mcu", "会议mcu"),
    "ups": ("ups", "不间断电源", "ups电源", "ups不间断电源", "ups主机"),
    "server": ("服务器", "存储服务器", "录播服务器", "应用服务器", "数据库服务器", "虚拟机"),
    "pc": ("电脑", "计算机", "台式机", "笔记本", "云桌面", "终端电脑", "pc机"),
    "phone": ("ip电话", "电话", "电话机", "话机", "ip话机"),
    "broadcast": ("ip广播", "广播终端", "ip广播终端", "广播", "音柱"),
    "ap": ("无线ap", "ap", "无线接入点", "无线路由"),
    "website": ("网站", "门户网站", "门户"),
    "platform": ("平台", "业务平台", "系统平台", "管理平台", "应用系统"),
    "other": ("其他", "其它"),
}
KIND_WORDS: dict[str, str] = {word: kind for kind, words in _WORDS.items() for word in words}
KIND_WORDS.update({label.lower(): kind for kind, label in KIND_LABELS.items()})
# ASCII words that may stand inside a longer entry (海康DS-NVR → nvr); Chinese words only as a suffix.
_INNER_WORDS = ("nvr", "dvr", "ups", "mcu", "ipc")


def _clean(word: str) -> str:
    return re.sub(r"[\s_\-()（）/、]+", "", word).lower()


def normalise_kind(word: str) -> str | None:
    """The config's kind for a ledger's device-type word, or None when it is not understood."""
    text = _clean(word)
    if not text:
        return None
    if text in KNOWN_KINDS:
        return text
    if text in KIND_WORDS:
        return KIND_WORDS[text]
    for known in sorted(KIND_WORDS, key=len, reverse=True):
        if len(known) >= 2 and not known.isascii() and text.endswith(known):
            return KIND_WORDS[known]
    for inner in _INNER_WORDS:
        if re.search(rf"(?<![a-z]){inner}(?![a-z])", text):
            return KIND_WORDS[inner]
    return None


def suggest_kind(word: str) -> str | None:
    """The nearest valid kind name to a typo (``swich`` → ``switch``), or None when nothing is close."""
    close = difflib.get_close_matches(word.strip().lower(), KNOWN_KINDS, n=1, cutoff=0.6)
    return close[0] if close else None


def kind_problem(value: str | None) -> str | None:
    """Why a configured kind is wrong, naming the nearest valid one; None when it is fine."""
    if value is None or value in KNOWN_KINDS:
        return None
    hint = normalise_kind(value) or suggest_kind(value)
    if hint:
        return f"unknown kind {value!r}: did you mean {hint!r}?"
    return f"unknown kind {value!r} (known: {', '.join(KNOWN_KINDS)})"
