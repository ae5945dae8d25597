"""What every report format shows, taken from the one result dict: headings in the report's
language, the summary rows, the table rows, and the chart figures. The formats only lay it out."""

from __future__ import annotations

from typing import Any

from compliance import display
from compliance.causes import cause_text
from compliance.charts import Figure, level_chart, rate_chart
from compliance.i18n import KINDS, SEVERITY, WAIVER

HEADINGS: dict[str, tuple[str, str]] = {
    "title": ("运维工作月报", "Monthly O&M report"),
    "summary": ("汇总", "Summary"),
    "online": ("在线率", "Online rates"),
    "faults": ("故障", "Faults"),
    "vulns": ("漏洞", "Vulnerabilities"),
    "daily": ("日常工作", "Daily work"),
    "details": ("扣分明细", "Deductions"),
    "contract": ("合同", "Contract"),
    "customer": ("服务对象", "Customer"),
    "period": ("考核周期", "Period"),
    "score": ("考核得分", "Score"),
    "grade": ("考核等级", "Grade"),
    "cut": ("扣减比例", "Cut"),
    "cut_amount": ("扣减金额（元）", "Cut (yuan)"),
    "cut_base_fee": ("本期服务费（元）", "Period fee (yuan)"),
    "cut_base_bond": ("履约保证金（元）", "Performance bond (yuan)"),
    "penalty_amount": ("处罚金额（元）", "Penalties (yuan)"),
    "total_amount": ("合计扣减（元）", "Total (yuan)"),
    "provisional": ("暂定结果", "Provisional"),
    "evidence": ("依据", "Evidence"),
    "item": ("项目", "Item"),
    "content": ("内容", "Value"),
    "appendix": ("附录：故障原因原文", "Appendix: causes as recorded"),
    "raw_cause": ("原文", "As recorded"),
    "shown_cause": ("报告所列原因", "Shown as"),
    "generated": ("生成时间", "Generated"),
    "data_until": ("数据截至", "Data until"),
    "parts": ("考核分项", "Score parts"),
    "part": ("分项", "Part"),
    "table": ("考核表", "Table"),
    "points": ("分值", "Points"),
    "value": ("得分", "Score"),
    "lost": ("扣分", "Lost"),
    "units": ("各使用单位得分", "Scores per unit"),
    "unit": ("单位", "Unit"),
    "group": ("分组", "Group"),
    "devices": ("设备数", "Devices"),
    "rate": ("在线率", "Online rate"),
    "threshold": ("考核指标", "Target"),
    "met": ("达标", "Met"),
    "worst": ("最低时刻在线率", "Worst instant"),
    "worst_at": ("最低时刻", "Worst at"),
    "minutes_below": ("低于指标（分钟）", "Minutes below"),
    "episodes": ("未达标次数", "Breach episodes"),
    "unknown_hours": ("未知时长（设备·小时）", "Unknown (device-hours)"),
    "maintenance_hours": ("计划维护（设备·小时）", "Maintenance (device-hours)"),
    "maintenance_list": ("计划维护时段", "Maintenance windows"),
    "maintenance_exclude": ("计划维护时间不计入考核时长：在线率 = 在线时长 ÷（在线时长 + 离线时长），本期共 {hours} 设备·小时。",
                            "Planned maintenance is left out of the observed time: online rate = up ÷ (up + down); "
                            "{hours} device-hours this period."),
    "maintenance_online": ("计划维护时间按合同计为在线，本期共 {hours} 设备·小时。",
                           "Planned maintenance counts as online under the contract: {hours} device-hours this period."),
    "maintenance_offline": ("计划维护时间按合同计为离线，本期共 {hours} 设备·小时。",
                            "Planned maintenance counts as offline under the contract: {hours} device-hours this period."),
    "hours": ("小时", "Hours"),
    "important": ("重要时段", "Important periods"),
    "episode_list": ("未达标时段", "Breach episodes"),
    "start": ("开始", "Start"),
    "end": ("结束", "End"),
    "minutes": ("分钟", "Minutes"),
    "daily_rates": ("每日在线率", "Daily online rate"),
    "date": ("日期", "Date"),
    "device": ("设备", "Device"),
    "device_list": ("设备在线率（由低到高）", "Devices (lowest rate first)"),
    "up_hours": ("在线（小时）", "Up (h)"),
    "down_hours": ("离线（小时）", "Down (h)"),
    "outages": ("离线次数", "Outages"),
    "id": ("编号", "Id"),
    "level": ("等级", "Level"),
    "system": ("系统", "System"),
    "cause": ("原因", "Cause"),
    "opened": ("发生时间", "Opened"),
    "acknowledged": ("响应时间", "Acknowledged"),
    "resolved": ("恢复时间", "Resolved"),
    "response_min": ("响应用时（分钟）", "Response (min)"),
    "resolution_min": ("处置用时（分钟）", "Resolution (min)"),
    "response_limit": ("响应时限（分钟）", "Response limit (min)"),
    "response_resolution": ("响应/处置用时（分钟）", "Response / resolution (min)"),
    "resolution_limit": ("处置时限（分钟）", "Resolution limit (min)"),
    "overdue": ("超时", "Overdue"),
    "waived": ("豁免", "Waived"),
    "recurrence": ("重复发生", "Recurs after"),
    "fault_summary": ("故障统计", "Fault summary"),
    "total": ("合计", "Total"),
    "resolution_rate": ("解决率", "Resolution rate"),
    "mean_response": ("平均响应（分钟）", "Mean response (min)"),
    "worst_response": ("最长响应（分钟）", "Worst response (min)"),
    "mean_resolution": ("平均处置（分钟）", "Mean resolution (min)"),
    "worst_resolution": ("最长处置（分钟）", "Worst resolution (min)"),
    "severity": ("等级", "Severity"),
    "found": ("发现时间", "Found"),
    "fixed": ("修复时间", "Fixed"),
    "mitigated": ("缓解时间", "Mitigated"),
    "limit_hours": ("时限（小时）", "Limit (h)"),
    "hours_open": ("用时（小时）", "Took (h)"),
    "name": ("名称", "Name"),
    "kind": ("类型", "Kind"),
    "count": ("次数", "Count"),
    "at": ("时间", "Time"),
    "detail": ("内容", "Detail"),
    "reason": ("原因", "Reason"),
    "rule": ("规则", "Rule"),
    "ref": ("依据", "Evidence"),
    "penalties": ("处罚", "Penalties"),
    "amount": ("金额（元）", "Amount (yuan)"),
    "warnings": ("说明", "Notes"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "na": ("—", "—"),
    "chart_rate": ("{name}：每日在线率与考核指标", "{name}: daily online rate against the target"),
    "charts_more": ("以下为 {shown} 个分组的每日在线率图（共 {total} 个分组；未达标的分组在前，全部分组见 Excel 报表）。",
                    "Daily-rate charts of {shown} of {total} groups (those that missed first; the Excel report has all)."),
    "chart_levels": ("各等级故障数与超时数", "Faults and overdue faults per level"),
    "legend_rate": ("日在线率", "daily rate"),
    "legend_threshold": ("考核指标", "target"),
    "legend_faults": ("故障数", "faults"),
    "legend_overdue": ("超时数", "overdue"),
    "level_label": ("{level} 级", "level {level}"),
    "sign": ("编制：__________    审核：__________    日期：__________",
             "Prepared by: __________    Checked by: __________    Date: __________"),
    "records": ("运维记录", "Records"),
    "record_counts": ("各单位记录数", "Records per unit"),
    "no_data": ("无", "none"),
    "truncated": ("仅列出 {shown} 条（共 {total} 条），完整清单见 Excel 报表或 JSON 结果。",
                  "{shown} of {total} rows shown; the Excel report and the JSON result have them all."),
    "summary_text": ("{period} 考核得分 {score} 分，等级“{grade}”，扣减 {cut}%（{cut_amount} 元），处罚 {penalties} 元。",
                     "{period}: score {score}, grade “{grade}”, cut {cut}% ({cut_amount} yuan), penalties {penalties} yuan."),
}


class Words:
    """Headings in the result's language: ``words["score"]``."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.index = 1 if result.get("language") == "en" else 0

    def __getitem__(self, key: str) -> str:
        return HEADINGS[key][self.index]

    def kind(self, kind: str) -> str:
        return KINDS.get(kind, (kind, kind))[self.index]

    def flag(self, value: bool | None) -> str:
        return self["na"] if value is None else self["yes"] if value else self["no"]

    def waiver(self, waiver: str) -> str:
        return WAIVER.get(waiver, (waiver, waiver))[self.index]

    def severity(self, severity: str) -> str:
        return SEVERITY.get(severity, (severity, severity))[self.index]


pct = display.pct             # 95.20%
score_text = display.score_text  # 89.50


def yuan(value: float | None) -> str:
    """48,437.50 (the headings say 元)."""
    return "—" if value is None else f"{display.money_value(value):,.2f}"


def points_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def hours_text(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def minutes_text(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


class Names:
    """Unit, system and device names instead of ids, and times to the minute in the contract's zone."""

    def __init__(self, result: dict[str, Any]) -> None:
        names = result.get("names", {})
        self.units: dict[str, str] = {**names.get("units", {}), **{u["id"]: u["name"] or u["id"] for u in result["units"]}}
        self.units.setdefault("*", "全部单位" if result.get("language") != "en" else "all units")
        self.systems: dict[str, str] = names.get("systems", {})
        self.tz = result["contract"]["timezone"]

    def unit(self, unit: str | None) -> str:
        return "" if not unit else self.units.get(unit, unit)

    def system(self, system: str | None) -> str:
        return "" if not system else self.systems.get(system, system)

    def time(self, value: str | None) -> str:
        return display.minute(value, self.tz) if value else ""


def fault_rows(result: dict[str, Any], faults: list[dict[str, Any]], w: Words) -> list[list[Any]]:
    """Level, unit, system, device, cause (in the report's language), opened, response and resolution
    minutes, overdue: what a customer reads in a fault table."""
    n = Names(result)
    rows = []
    for f in faults:
        cause, _raw = cause_text(f["cause"], result.get("language", "zh"))
        late = (f["response_overdue"] or f["resolution_overdue"]) and not f["waived"]
        rows.append([f["id"], f["level"], n.unit(f["unit"]), n.system(f["system"]), f.get("device_name") or f["device"] or "",
                     cause, n.time(f["opened"]), minutes_text(f["response_minutes"]),
                     minutes_text(f["resolution_minutes"]), w.flag(late)])
    return rows


def raw_causes(result: dict[str, Any], faults: list[dict[str, Any]] | None = None) -> list[list[str]]:
    """(fault id, device, the cause as shown, the raw text) for each fault listed (default: all) whose
    cause was translated for the report."""
    rows = []
    for f in result["faults"]["items"] if faults is None else faults:
        cause, translated = cause_text(f["cause"], result.get("language", "zh"))
        if translated:
            rows.append([f["id"], f.get("device_name") or f["device"] or "", cause, f["cause"]])
    return rows


def penalty_rows(result: dict[str, Any]) -> list[list[Any]]:
    """(name, amount, reason, evidence, time) of each penalty."""
    n = Names(result)
    return [[p["name"], yuan(p["amount"]), p["reason"], p.get("evidence") or "", n.time(p["at"])]
            for p in result["penalties"]]


def summary_rows(result: dict[str, Any], w: Words) -> list[tuple[str, str, float | None]]:
    """(label, text, number or None): the number for spreadsheets, the text for documents."""
    period = result["period"]
    base = result["cut_base"]
    rows: list[tuple[str, str, float | None]] = [
        (w["contract"], result["contract"]["name"] or result["contract"]["id"], None),
        (w["customer"], result["contract"]["customer"] or "—", None),
        (w["period"], f"{period['label']}（{period['first']} ~ {period['last']}）", None),
        (w["score"], score_text(result["score"]), result["score"]),
        (w["grade"], result["grade"], None),
        (w["cut"], f"{result['cut_percent']:g}%", result["cut_percent"] / 100),
        (w["cut_base_bond"] if base["kind"] == "bond" else w["cut_base_fee"], yuan(base["amount"]), base["amount"]),
        (w["cut_amount"], yuan(result["cut_amount"]), result["cut_amount"]),
        (w["penalty_amount"], yuan(result["penalty_amount"]), result["penalty_amount"]),
        (w["total_amount"], yuan(result["total_amount"]), result["total_amount"]),
    ]
    for table in result["tables"] if len(result["tables"]) > 1 else []:
        rows.append((f"{w['table']}：{table['name'] or table['id']}", score_text(table["score"]), table["score"]))
    for reason in period.get("provisional_reasons", []):
        rows.append((w["provisional"], reason, None))
    n = Names(result)
    rows += [(w["generated"], n.time(result["generated_at"]), None), (w["data_until"], n.time(result["data_until"]), None)]
    return rows


def summary_sentence(result: dict[str, Any], w: Words) -> str:
    return w["summary_text"].format(period=result["period"]["label"], score=score_text(result["score"]),
                                    grade=result["grade"], cut=f"{result['cut_percent']:g}",
                                    cut_amount=yuan(result["cut_amount"]), penalties=yuan(result["penalty_amount"]))


def maintenance_note(result: dict[str, Any], w: Words) -> str:
    """How the contract counts planned maintenance and how much there was (device-hours of the devices)."""
    hours = sum(d["maintenance_hours"] for d in result["devices"])
    return w[f"maintenance_{result['maintenance']['mode']}"].format(hours=hours_text(hours))


def maintenance_rows(result: dict[str, Any]) -> list[list[Any]]:
    """(name, unit, start, end, hours, devices) per maintenance window of the period."""
    n = Names(result)
    return [[m["name"] or "—", n.unit(m["unit"]) or "—", n.time(m["start"]), n.time(m["end"]), m["hours"], m["devices"]]
            for m in result["maintenance"]["windows"]]


def level_rows(result: dict[str, Any]) -> list[tuple[int, int, int]]:
    """(level, faults, overdue faults not waived) per level."""
    rows = []
    for level in (1, 2, 3, 4):
        items = [f for f in result["faults"]["items"] if f["level"] == level]
        overdue = sum(1 for f in items if (f["response_overdue"] or f["resolution_overdue"]) and not f["waived"])
        rows.append((level, len(items), overdue))
    return rows


def rate_figures(result: dict[str, Any], w: Words) -> list[tuple[dict[str, Any], Figure]]:
    """One chart per group that has daily data."""
    figures = []
    for group in result["online_rates"]:
        if any(d["rate"] is not None for d in group["daily"]):
            figures.append((group, rate_chart(w["chart_rate"].format(name=group["name"]), group["daily"])))
    return figures


def levels_figure(result: dict[str, Any], w: Words) -> Figure:
    rows = [(w["level_label"].format(level=level), count, overdue) for level, count, overdue in level_rows(result)]
    return level_chart(w["chart_levels"], rows)


def all_items(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of every part, with its part's name, non-zero points first by part order."""
    rows = []
    for part in result["parts"]:
        for item in part["items"]:
            rows.append({**item, "part": part["name"], "table": part["table"]})
    return rows


def unit_names(result: dict[str, Any]) -> dict[str, str]:
    return Names(result).units


def listed(rows: list[Any], limit: int) -> tuple[list[Any], int]:
    """The first ``limit`` rows and how many there were."""
    return rows[:limit], len(rows)


def notable_faults(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Faults that matter most first: overdue and not waived, recurring, levels 1-2; then the rest."""
    def rank(f: dict[str, Any]) -> int:
        late = (f["response_overdue"] or f["resolution_overdue"]) and not f["waived"]
        return 0 if late or f["recurrence_of"] or f["level"] <= 2 else 1

    return sorted(result["faults"]["items"], key=rank)
