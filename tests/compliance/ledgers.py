"""Hand-made ledgers for the golden months of the three example contracts.

Each function returns the JSON-Lines objects of one month; the expected numbers are worked
out by hand from spec/contracts.md in tests/compliance/test_golden.py, next to the asserts.
Times are Beijing time.
"""

from __future__ import annotations

from typing import Any

Line = dict[str, Any]


def t(text: str) -> str:
    """``2026-09-15T10:00`` → ``2026-09-15T10:00:00+08:00``."""
    return text + ":00+08:00" if len(text) == 16 else text + "T00:00:00+08:00"


def state(device: str, at: str, value: str) -> Line:
    return {"type": "state", "device": device, "at": t(at), "state": value}


def outage(device: str, start: str, end: str, value: str = "down") -> list[Line]:
    return [state(device, start, value), state(device, end, "up")]


def agent(at: str, value: str, **extra: Any) -> Line:
    return {"type": "agent", "at": t(at), "state": value, **extra}


def rec(kind: str, unit: str, at: str, system: str | None = None, **fields: Any) -> Line:
    return {"type": "record", "kind": kind, "unit": unit, "system": system, "at": t(at), **fields}


def fault(id_: str, level: int, opened: str, acknowledged: str | None, resolved: str | None, **fields: Any) -> Line:
    return {"type": "fault", "id": id_, "level": level, "opened": t(opened),
            "acknowledged": t(acknowledged) if acknowledged else None, "resolved": t(resolved) if resolved else None,
            "waived": fields.pop("waived", None), "cause": fields.pop("cause", ""), **fields}


def vuln(id_: str, unit: str, system: str, severity: str, found: str, fixed: str | None = None,
         mitigated: str | None = None, **fields: Any) -> Line:
    return {"type": "vuln", "id": id_, "unit": unit, "system": system, "severity": severity, "found": t(found),
            "fixed": t(fixed) if fixed else None, "mitigated": t(mitigated) if mitigated else None, **fields}


def doc(unit: str, at: str, name: str, **fields: Any) -> Line:
    return rec("document", unit, at, document=name, **fields)


# -- A. municipal, contract month 2026-09 (2026-09-10 .. 2026-10-09) ---------------------------

MUNICIPAL_NOW = "2026-10-12T09:00:00+08:00"


def municipal_month() -> list[Line]:
    lines: list[Line] = [
        # the agent ran all month except 2026-09-20 02:00-04:00 (unknown time for every device)
        agent("2026-08-01T00:00", "running"),
        agent("2026-09-20T02:00", "stopped"),
        agent("2026-09-20T04:00", "running"),
        agent("2026-10-12T00:00", "stopped", last_heartbeat=True),
    ]
    # 50 Blue Sky Guard cameras and 20 Sky Eye cameras, all up since 2026-09-01
    lantian = [f"lantian-{i:03d}" for i in range(1, 51)]
    tianyan = [f"tianyan-{i:02d}" for i in range(1, 21)]
    lines += [state(d, "2026-09-01T00:00", "up") for d in lantian + tianyan]
    for device in lantian[0:3]:  # A: 3 of 50 down for 4 h -> 94 % < 95 %
        lines += outage(device, "2026-09-15T10:00", "2026-09-15T14:00")
    lines += outage("lantian-004", "2026-10-03T08:00", "2026-10-03T09:00")  # B: 49/50 = 98 %, exactly the target
    for device in lantian[4:6]:  # C: 48/50 = 96 % during National Day (98 %)
        lines += outage(device, "2026-10-05T20:00", "2026-10-05T22:00")
    lines += outage("lantian-007", "2026-09-25T00:00", "2026-09-25T06:00", "maintenance")
    lines += outage("tianyan-01", "2026-10-02T00:00", "2026-10-05T00:00")  # typhoon: 72 h in National Day

    # package-wide documents (unit "*")
    for name in ("运维实施方案", "应急处置预案", "保密协议", "安全运维管理制度", "资产台账"):
        lines.append(doc("*", "2026-06-15T10:00", name))
    # each system's own technical archive (per system; line leases and purchased services need none)
    for unit, system in (("sthjj", "lantian"), ("gaj", "tianyan"), ("zfw", "xueliang"), ("dsjj", "dsjj-room"),
                         ("dsjj", "dsjj-cloud"), ("dsjj", "dsjj-portal"), ("zfb", "zfb-vc"), ("fgw", "fgw-site")):
        lines.append(rec("document", unit, "2026-06-20T10:00", system, document="技术留底"))
    for name in ("应急演练资料", "技术培训资料"):
        lines.append(doc("*", "2026-07-20T10:00", name))
    for name in ("巡检留痕记录", "运维工作月报"):
        lines.append(doc("*", "2026-10-08T17:00", name))

    # daily work of the units whose systems are not line leases / purchased services
    weekly = ["2026-09-11T10:00", "2026-09-17T10:00", "2026-09-24T10:00", "2026-10-01T10:00"]
    backups = ["2026-09-11T02:00", "2026-09-18T02:00", "2026-09-25T02:00", "2026-10-02T02:00"]
    for unit, system, visit in (("sthjj", "lantian", "2026-09-12T10:00"), ("zfw", "xueliang", "2026-09-15T10:00"),
                                ("zfb", "zfb-vc", "2026-09-13T10:00"), ("fgw", "fgw-site", "2026-09-14T15:00")):
        lines.append(rec("visit", unit, visit))
        lines += [rec("inspection", unit, at, system, result="ok") for at in weekly]
        lines += [rec("backup", unit, at, system, result="ok") for at in backups]
        if unit != "zfb":  # zfb: no vulnerability scan this month nor last month
            lines.append(rec("scan", unit, "2026-09-20T14:00", system, result="ok"))
    # gaj: no visit this month (one last month), 4 inspections, 3 backups, 1 scan
    lines.append(rec("visit", "gaj", "2026-08-20T10:00"))
    lines += [rec("inspection", "gaj", at, "tianyan", result="ok") for at in weekly]
    lines += [rec("backup", "gaj", at, "tianyan", result="ok") for at in backups[:3]]
    lines.append(rec("scan", "gaj", "2026-09-21T14:00", "tianyan", result="ok"))
    # dsjj: 4 inspections in 3 calendar weeks; backups cloud 4, portal 4, room 1; a scan of each
    lines.append(rec("visit", "dsjj", "2026-09-14T10:00"))
    lines += [rec("inspection", "dsjj", at, None, result="ok")
              for at in ("2026-09-11T10:00", "2026-09-12T10:00", "2026-09-22T10:00", "2026-10-06T10:00")]
    lines += [rec("backup", "dsjj", at, "dsjj-cloud", result="ok") for at in backups]
    lines += [rec("backup", "dsjj", at, "dsjj-portal", result="ok") for at in backups]
    lines.append(rec("backup", "dsjj", "2026-09-30T02:00", "dsjj-room", result="ok"))
    lines += [rec("scan", "dsjj", "2026-09-27T14:00", s, result="ok") for s in ("dsjj-room", "dsjj-cloud", "dsjj-portal")]

    # satisfaction forms (the other units send none: satisfied)
    lines.append(rec("satisfaction", "sthjj", "2026-10-08T16:00", answers=["满意", "满意", "基本满意", "满意", "一般"],
                     accident=False))
    lines.append(rec("satisfaction", "zfw", "2026-10-09T11:00", answers=["满意", "满意", "满意", "满意", "一般"],
                     accident=False))

    # faults
    lines += [
        fault("F1", 2, "2026-09-15T10:00", "2026-09-15T10:08", "2026-09-15T15:30", unit="dsjj", system="dsjj-cloud",
              device="cloud-node-1", cause="存储链路中断"),
        fault("F2", 1, "2026-09-22T09:00", "2026-09-22T09:12", "2026-09-22T11:30", unit="dsjj", system="dsjj-portal",
              device="portal-web-1", cause="Web 服务崩溃"),
        fault("F3", 3, "2026-09-28T14:00", "2026-09-28T14:15", "2026-09-28T16:00", unit="dsjj", system="dsjj-cloud",
              device="cloud-node-1", cause="存储链路中断"),
        fault("G1", 3, "2026-09-18T09:00", "2026-09-18T09:25", "2026-09-18T12:00", unit="gaj", system="tianyan",
              device="tianyan-07", cause="镜头污损"),
        fault("G3", 3, "2026-10-02T00:00", "2026-10-02T00:05", "2026-10-05T00:00", unit="gaj", system="tianyan",
              device="tianyan-01", cause="台风致供电中断", waived="force_majeure"),
    ]
    # the fault documents: major-event reports (levels 1-2) and an analysis report for each fault
    lines += [doc("dsjj", "2026-09-15T11:00", "重大事件上报", fault="F1"),
              doc("dsjj", "2026-09-22T09:30", "重大事件上报", fault="F2"),
              doc("dsjj", "2026-09-16T10:00", "故障分析报告", fault="F1"),
              doc("dsjj", "2026-09-23T10:00", "故障分析报告", fault="F2"),
              doc("dsjj", "2026-09-29T10:00", "故障分析报告", fault="F3"),
              doc("gaj", "2026-09-19T10:00", "故障分析报告", fault="G1"),
              doc("gaj", "2026-10-06T10:00", "故障分析报告", fault="G3")]
    # vulnerabilities
    lines += [
        vuln("V1", "sthjj", "lantian", "critical", "2026-09-20T10:00", fixed="2026-09-22T10:00", cve="CVE-2026-1111"),
        vuln("V2", "dsjj", "dsjj-portal", "high", "2026-09-12T09:00", fixed="2026-09-25T09:00", cve="CVE-2026-2222"),
        vuln("V3", "fgw", "fgw-site", "medium", "2026-09-16T09:00", mitigated="2026-09-26T09:00", cve="CVE-2026-3333"),
    ]
    # deductions from the score, money penalties
    lines += [
        rec("notice", "gaj", "2026-09-25T15:00", "tianyan", level="city", reason="天眼摄像机离线被市级通报"),
        rec("notice", "slj", "2026-09-19T15:00", "slj-sluice", level="city", reason="闸口视频离线被市级通报"),
        rec("complaint", "fgw", "2026-09-21T11:00", "fgw-site", points=5, reason="网站栏目更新不及时"),
        rec("complaint", "slj", "2026-09-23T11:00", None, points=5, reason="报修响应慢"),
        rec("deduction", "zfw", "2026-09-27T10:00", "xueliang", points=5, reason="重大变更未报备"),
        rec("deduction", "slj", "2026-10-08T10:00", None, points=2, reason="警示通知未落实"),
        rec("staff_shortfall", "dsjj", "2026-09-18T09:00", None, missing=1, reason="驻场工程师缺岗"),
        rec("penalty", "sthjj", "2026-10-09T16:00", None, amount=10000, reason="风险隐患未整改"),
    ]
    return lines


# -- B. service hall, March 2024 ---------------------------------------------------------------

HALL_NOW = "2024-04-02T09:00:00+08:00"
HALL_SYSTEMS = ["smart-service", "display-dispatch", "video-surveillance", "access-control", "parking", "conference",
                "led", "wifi", "ip-broadcast", "security", "cloud-desktop", "machine-room", "cabling"]


def hall_month() -> list[Line]:
    lines: list[Line] = []  # no agent run records: the state intervals are taken as observed
    cameras = [f"cam-{i:02d}" for i in range(1, 11)]
    lines += [state(d, "2024-02-01T00:00", "up") for d in cameras]
    lines += outage("cam-03", "2024-03-08T01:00", "2024-03-08T04:00")
    # every system inspected this month but the cabling
    for day, system in enumerate(HALL_SYSTEMS[:-1], start=5):
        lines.append(rec("inspection", "hall", f"2024-03-{day:02d}T10:00", system, result="ok"))
    lines += [
        # H1 ordinary: answered after 8 min (> 5), fixed in 25 min (<= 30)
        fault("H1", 4, "2024-03-04T10:00", "2024-03-04T10:08", "2024-03-04T10:25", unit="hall", system="smart-service",
              cause="叫号屏黑屏"),
        # H2 ordinary: answered in 3 min, fixed after 50 min (> 30)
        fault("H2", 4, "2024-03-11T14:00", "2024-03-11T14:03", "2024-03-11T14:50", unit="hall", system="wifi",
              cause="公共 Wi-Fi 认证页无法打开"),
        # H3 ordinary systemic: answered after 20 min (> 5), handled in 11 h (<= 24 h)
        fault("H3", 2, "2024-03-15T09:00", "2024-03-15T09:20", "2024-03-15T20:00", unit="hall", system="cloud-desktop",
              cause="云桌面批量登录失败"),
        # H4 major problem: answered in 4 min, fixed the same day at 23:30
        fault("H4", 3, "2024-03-20T16:00", "2024-03-20T16:04", "2024-03-20T23:30", unit="hall", system="led",
              cause="LED 大屏分区失控"),
        # H5 major systemic: answered after 10 min (> 5), rectified in 2 days (<= 1 week)
        fault("H5", 1, "2024-03-25T09:00", "2024-03-25T09:10", "2024-03-27T09:00", unit="hall", system="machine-room",
              cause="核心交换机板卡故障"),
        # H6 answered after 15 min during a grid outage: force majeure, waived
        fault("H6", 4, "2024-03-28T19:00", "2024-03-28T19:15", "2024-03-28T19:25", unit="hall", system="parking",
              cause="市电中断", waived="force_majeure"),
        rec("complaint", "hall", "2024-03-12T11:00", "smart-service", reason="叫号系统故障未及时处理"),
        rec("task_missed", "hall", "2024-03-18T17:00", "smart-service", reason="自助终端新增事项开发任务 3 日内未响应"),
        rec("staff_shortfall", "hall", "2024-03-23T22:00", None, missing=2, reason="夜班仅 6 人在岗"),
        rec("deduction", "hall", "2024-03-26T15:00", None, points=0.5, part="attitude", reason="工程师服务态度生硬"),
    ]
    return lines


# -- C. provincial medical-insurance video conferencing, April 2025 ------------------------------

VC_NOW = "2025-05-02T09:00:00+08:00"
APRIL_2025_WORKING_DAYS = [1, 2, 3, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 21, 22, 23, 24, 25, 27, 28, 29, 30]


def vc_month() -> list[Line]:
    lines: list[Line] = [agent("2025-03-01T00:00", "running"), agent("2025-05-02T08:00", "stopped", last_heartbeat=True)]
    terminals = [f"t4k-{i:02d}" for i in range(1, 6)]
    lines += [state(d, "2025-03-01T00:00", "up") for d in [*terminals, "mcu-1"]]
    lines += outage("t4k-05", "2025-04-10T09:00", "2025-04-10T11:00")
    # the working-day health check, missed on 8 and 21 April; one more on Saturday 5 April (a holiday)
    for day in APRIL_2025_WORKING_DAYS:
        if day not in (8, 21):
            lines.append(rec("inspection", "ybj", f"2025-04-{day:02d}T08:30", "vc-hw", result="ok"))
    lines.append(rec("inspection", "ybj", "2025-04-05T08:30", "vc-hw", result="ok"))
    # weekly backups of the platform, all fine
    lines += [rec("backup", "ybj", f"2025-04-{d:02d}T02:00", "vc-sw", result="ok") for d in (6, 13, 20, 27)]
    # reports: weekly ones in weeks 1, 2, 4 and 5 (none for 14-20 April), the monthly one
    lines += [doc("ybj", f"2025-04-{d:02d}T17:00", "周报") for d in (4, 11, 25, 30)]
    lines.append(doc("ybj", "2025-04-30T18:00", "月报"))
    lines += [
        # hardware: a terminal answered after 25 min (tier > 10 min: -1)
        fault("HW1", 2, "2025-04-10T09:00", "2025-04-10T09:25", "2025-04-10T11:00", unit="ybj", system="vc-hw",
              device="t4k-05", cause="终端视频无输出"),
        # hardware: vendor-caused MCU outage of 25 min (tier >= 10 min: -10), answered in 5 min
        fault("HW2", 1, "2025-04-16T14:00", "2025-04-16T14:05", "2025-04-16T14:25", unit="ybj", system="vc-hw",
              device="mcu-1", cause="厂商升级导致 MCU 重启", party="vendor"),
        # hardware: a camera answered in 8 min, still not fixed (resolution rate 3/4)
        fault("HW3", 3, "2025-04-28T10:00", "2025-04-28T10:08", None, unit="ybj", system="vc-hw", device="cam-31",
              cause="摄像机云台卡死"),
        # software: level 1 answered after 20 min (> 15: SLA -5, emergency -10), fixed after 150 min (> 2 h: -5)
        fault("SW1", 1, "2025-04-22T09:00", "2025-04-22T09:20", "2025-04-22T11:30", unit="ybj", system="vc-sw",
              cause="会管平台无法创建会议"),
        rec("deduction", "ybj", "2025-04-09T16:00", "vc-hw", points=2, part="hw_service", reason="话筒音量异常未及时处理"),
        rec("praise", "ybj", "2025-04-18T10:00", "vc-hw", reason="全省视频会议保障书面表扬"),
        rec("deduction", "ybj", "2025-04-04T20:00", "vc-hw", points=10, part="hw_events", reason="清明假期会议中断 5 分钟"),
        rec("task_missed", "ybj", "2025-04-15T10:00", "vc-hw", reason="交办的会场调试 30 分钟未响应"),
        rec("deduction", "ybj", "2025-04-11T10:00", "vc-sw", points=5, part="sw_monitoring", reason="未发现证书过期隐患致登录失败"),
        rec("complaint", "ybj", "2025-04-22T15:00", "vc-sw", reason="会管平台故障影响全省调度会"),
        rec("penalty", "ybj", "2025-04-29T10:00", None, amount=5000, reason="备件未按时到位"),
    ]
    return lines
