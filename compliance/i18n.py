"""Words of the compliance results and reports, Chinese by default, English available."""

from __future__ import annotations

from typing import Any

KINDS = {
    "visit": ("上门回访", "visit"),
    "inspection": ("巡检", "inspection"),
    "backup": ("数据备份", "backup"),
    "scan": ("漏洞扫描", "vulnerability scan"),
    "satisfaction": ("满意度调查", "satisfaction form"),
    "document": ("运维资料", "document"),
    "complaint": ("投诉", "complaint"),
    "praise": ("表扬", "praise"),
    "notice": ("通报批评", "public criticism"),
    "deduction": ("扣分", "deduction"),
    "penalty": ("处罚", "penalty"),
    "staff_shortfall": ("驻场人员不足", "staff shortfall"),
    "task_missed": ("任务未完成", "task not done"),
    "meeting_check": ("会前检查", "pre-meeting check"),
}
SEVERITY = {"critical": ("极危", "critical"), "high": ("高危", "high"), "medium": ("中危", "medium"),
            "low": ("低危", "low")}
WAIVER = {"force_majeure": ("不可抗力", "force majeure"), "maintenance": ("计划维护", "maintenance")}
NOTICE = {"city": ("市级", "city"), "province": ("省级", "province"), "national": ("国家级", "national")}

MESSAGES: dict[str, tuple[str, str]] = {
    "manual_default": ("本期未提交{kind}，按 {points} 分计", "no {kind} this period: {points} points"),
    "manual_form": ("{kind}：{answers}", "{kind}: {answers}"),
    "manual_points": ("{kind}：记录得分 {points}", "{kind}: recorded {points} points"),
    "manual_accident": ("{kind}报告发生运维事故，计 {points} 分", "{kind} reports an O&M accident: {points} points"),
    "count_unit": ("{kind} {count} 次，得 {got}/{max} 分", "{kind}: {count}, {got} of {max} points"),
    "count_system": ("{system}：{kind} {count} 次，得 {got}/{max} 分", "{system}: {kind} {count}, {got} of {max} points"),
    "count_week": ("（按周计）", " (counted per week)"),
    "count_day": ("（按天计）", " (counted per day)"),
    "exempt": ("仅线路租赁/购买服务类事项，满分", "line lease / purchased service items only: full marks"),
    "per_day_missed": ("{day} 工作日无{kind}记录", "{day}: no {kind} on a working day"),
    "per_day_missed_all": ("{day} 无{kind}记录", "{day}: no {kind}"),
    "fault_over": ("故障 {id}（{level} 级）{what}超时：用时 {measured}，时限 {limit}",
                   "fault {id} (level {level}) {what} late: {measured}, limit {limit}"),
    "fault_not_by": ("故障 {id}（{level} 级）{what}超时：时限 {limit} 届满时仍未完成",
                     "fault {id} (level {level}) {what} late: not done when its {limit} ran out"),
    "fault_open": ("（至今未完成）", " (still open)"),
    "fault_tier": ("故障 {id}（{level} 级）{what}用时 {measured}", "fault {id} (level {level}) {what} took {measured}"),
    "fault_waived": ("故障 {id} 超时已豁免（{waiver}）", "fault {id}: overdue waived ({waiver})"),
    "response": ("响应", "response"),
    "resolution": ("处置", "resolution"),
    "vuln_over": ("漏洞 {id}（{severity}）{elapsed}未修复，时限 {limit}", "vulnerability {id} ({severity}) not fixed in {elapsed}, limit {limit}"),
    "record": ("{kind}：{reason}", "{kind}: {reason}"),
    "doc_missing": ("缺少{name}{which}", "missing {name}{which}"),
    "doc_missing_copies": ("缺少{name} {missing}/{due} 份{which}", "missing {name}: {missing} of {due}{which}"),
    "doc_more": ("等（另 {more} 份）", " and {more} more"),
    "doc_for_fault": ("（故障 {id}）", " (fault {id})"),
    "doc_week": ("（{first}~{last} 周）", " (week {first}..{last})"),
    "consecutive": ("{system} 连续两期无{kind}", "{system}: no {kind} two periods running"),
    "consecutive_any": ("{system} 连续两期无{kinds}", "{system}: no {kinds} two periods running"),
    "online_episode": ("{group} 在线率低于 {threshold}：{start} 起 {minutes} 分钟，最低 {worst}",
                       "{group} online rate below {threshold}: from {start} for {minutes} min, lowest {worst}"),
    "online_period": ("{group}{window}在线率 {rate}，未达到要求的 {threshold}",
                      "{group}{window}: online rate {rate}, below the required {threshold}"),
    "window_period": ("在考核期（{first}~{last}）", " over the assessment period ({first}..{last})"),
    "window_important": ("在重要时间节点“{name}”（{first}~{last}）", " over the important period {name} ({first}..{last})"),
    "online_evidence": ("在线 {online} / 观测 {observed} 设备小时，在线率 {rate}",
                        "{online} of {observed} device-hours online, rate {rate}"),
    "online_episodes": ("；本期低于阈值 {episodes} 段，共 {minutes} 分钟", "; {episodes} breach episodes, {minutes} min below"),
    "recurring_fault": ("故障 {id} 为 {previous} 的重复发生（未彻底修复）", "fault {id} recurs after {previous} (incomplete fix)"),
    "recurring_vuln": ("漏洞 {id} 为 {previous} 的重复发生", "vulnerability {id} recurs after {previous}"),
    "penalty_percent": ("{kind}：{reason}（本期费用的 {percent}%）", "{kind}: {reason} ({percent}% of the period's fee)"),
    "resolution_rate": ("故障解决率 {rate} 未达 {target}", "fault resolution rate {rate} below {target}"),
    "subitem_cap": ("子项“{name}”扣分不超过其分值 {points} 分，超出的 {excess} 分不计",
                    "sub-item {name}: deductions capped at its {points} points, {excess} not counted"),
    "carried_deadline": ("（上期发生，时限 {deadline} 在本期届满）", " (from an earlier period; its deadline {deadline} passed in this one)"),
    "provisional_open": ("考核期尚未结束：数据截至 {until}，考核期至 {end}，结果为暂定",
                         "the period is not over: data until {until}, the period ends {end}; figures are provisional"),
    "provisional_pending": ("{count} 项故障/漏洞的时限尚未届满（合同按发生期计扣），结果为暂定",
                            "{count} faults/vulnerabilities have a deadline not yet passed (charged in the period"
                            " they were opened): figures are provisional"),
    "provisional_annual": ("本合同按年度考核：月度结果为暂定，以年度考核为准",
                           "the contract is assessed yearly: a month's result is provisional"),
    "recurring_evidence": ("{at} 再次发生于 {target}（{cause}）", "again at {at} on {target} ({cause})"),
    "record_evidence": ("{kind}记录：{at}，单位 {unit}", "{kind} record: {at}, unit {unit}"),
    "resolution_evidence": ("本期故障 {total} 起，已解决 {resolved} 起", "{resolved} of {total} faults resolved"),
    "warn_outside_term": ("考核期 {period} 不在合同期 {start}~{end} 内", "period {period} is outside the contract term {start}..{end}"),
    "warn_no_runs": ("台账中没有采集代理的运行记录：状态区间按已观测时间计",
                     "the ledger holds no agent run records: state intervals are taken as observed"),
    "warn_working_days": ("chinesecalendar 包中没有 {year} 年的工作日：按周一至周五计",
                          "working days of {year} are not in the chinesecalendar package: Monday-Friday assumed"),
    "warn_no_points": ("记录 {uid}：分项 {part} 的规则 {rule} 无法确定分值，未计", "record {uid}: no points for rule {rule} of part {part}"),
    "warn_no_units": ("合同按使用单位平均但未列出单位：按整体计分", "the contract averages units but lists none: scored as one"),
    "warn_group_empty": ("在线率分组 {group} 没有设备（清单分组 {groups}，设备编号模式 {patterns}）",
                         "online-rate group {group}: no devices (inventory groups {groups}, patterns {patterns})"),
    "hours_minutes": ("{h} 小时 {m} 分", "{h} h {m} min"),
    "minutes": ("{m} 分钟", "{m} min"),
    "days_hours": ("{d} 天 {h} 小时", "{d} d {h} h"),
}


class Texts:
    """``texts("fault_over", id=..., ...)`` in the report's language."""

    def __init__(self, language: str = "zh") -> None:
        self.index = 1 if language == "en" else 0
        self.language = "en" if self.index else "zh"

    def __call__(self, key: str, **values: Any) -> str:
        return MESSAGES[key][self.index].format(**values)

    def kind(self, kind: str) -> str:
        return KINDS.get(kind, (kind, kind.replace("_", " ")))[self.index]

    def severity(self, severity: str) -> str:
        return SEVERITY.get(severity, (severity, severity))[self.index]

    def waiver(self, waiver: str) -> str:
        return WAIVER.get(waiver, (waiver, waiver))[self.index]

    def duration(self, seconds: float) -> str:
        minutes = int(round(seconds / 60))
        if minutes < 60:
            return self("minutes", m=minutes)
        hours, minutes = divmod(minutes, 60)
        if hours < 48:
            return self("hours_minutes", h=hours, m=minutes)
        days, hours = divmod(hours, 24)
        return self("days_hours", d=days, h=hours)
