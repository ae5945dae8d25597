"""The report as one self-contained HTML file: inline CSS, inline SVG charts drawn by
``compliance.charts``, no script and no external reference (customer sites have no internet)."""

from __future__ import annotations

from html import escape
from typing import Any

from compliance.charts import BLUE, ORANGE, RED, to_svg
from compliance.reportdata import (
    Names,
    Words,
    all_items,
    fault_rows,
    hours_text,
    level_rows,
    levels_figure,
    listed,
    maintenance_note,
    maintenance_rows,
    minutes_text,
    notable_faults,
    pct,
    penalty_rows,
    points_text,
    rate_figures,
    raw_causes,
    score_text,
    summary_rows,
    summary_sentence,
    unit_names,
    yuan,
)

WORST_DEVICES = 50
MAX_ROWS = 500  # per table; the xlsx and the JSON have every row

CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px auto;
max-width:1100px;color:#1e293b;line-height:1.5;padding:0 16px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid #2563eb;padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin:18px 0 6px}.sub{color:#64748b;margin:0 0 16px}
table{border-collapse:collapse;width:100%;margin:8px 0 12px;font-size:13px}
th,td{border:1px solid #cbd5e1;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#e2e8f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b91c1c;font-weight:bold}.ok{color:#15803d}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{border:1px solid #cbd5e1;border-radius:6px;padding:10px 16px;min-width:150px}
.card b{display:block;font-size:22px}.card span{color:#64748b;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}figcaption{font-size:12px;color:#64748b}
.note{color:#92400e;background:#fef3c7;padding:6px 10px;border-radius:4px}
@media print{body{margin:0}h2{break-after:avoid}figure{break-inside:avoid}}
"""


def _cell(value: Any, cls: str = "") -> str:
    text = "—" if value is None or value == "" else str(value)
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{escape(text)}</td>"


def _num(value: Any, bad: bool = False) -> str:
    return _cell(value, "num bad" if bad else "num")


def _table(headers: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _truncated(w: Words, shown: int, total: int) -> str:
    return f'<p class="note">{escape(w["truncated"].format(shown=shown, total=total))}</p>' if total > shown else ""


def render_html(result: dict[str, Any]) -> str:
    w = Words(result)
    n = Names(result)
    names = unit_names(result)
    contract = result["contract"]
    title = f"{w['title']} · {contract['name'] or contract['id']} · {result['period']['label']}"
    out = [f'<!DOCTYPE html><html lang="{"en" if result.get("language") == "en" else "zh-CN"}"><head>'
           f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
           f"<h1>{escape(w['title'])}</h1><p class=\"sub\">{escape(contract['name'] or contract['id'])} · "
           f"{escape(result['period']['first'])} ~ {escape(result['period']['last'])}</p>"]

    # summary
    out.append(f'<section id="summary"><h2>{escape(w["summary"])}</h2>')
    cards = [(w["score"], score_text(result["score"])), (w["grade"], result["grade"]), (w["cut"], f"{result['cut_percent']:g}%"),
             (w["cut_amount"], yuan(result["cut_amount"])), (w["penalty_amount"], yuan(result["penalty_amount"]))]
    out.append('<div class="cards">' + "".join(f"<div class=\"card\"><b>{escape(v)}</b><span>{escape(k)}</span></div>"
                                               for k, v in cards) + "</div>")
    out.append(f"<p>{escape(summary_sentence(result, w))}</p>")
    for reason in result["period"].get("provisional_reasons", []):
        out.append(f'<p class="note">{escape(w["provisional"])}：{escape(reason)}</p>')
    out.append(_table([w["item"], w["content"]], [f"<tr>{_cell(label)}{_cell(text)}</tr>"
                                               for label, text, _n in summary_rows(result, w)]))
    out.append("</section>")

    # parts and units
    out.append(f'<section id="parts"><h2>{escape(w["parts"])}</h2>')
    rows = [f"<tr>{_cell(p['name'])}{_num(score_text(p['points']))}{_num(score_text(p['value']))}"
            f"{_num(score_text(p['lost']), bool(p['lost'] and p['lost'] > 0))}</tr>"
            for p in result["parts"]]
    out.append(_table([w["part"], w["points"], w["value"], w["lost"]], rows))
    if result["units"]:
        out.append(f"<h3>{escape(w['units'])}</h3>")
        part_ids = [p["id"] for p in result["parts"]]
        rows = [f"<tr>{_cell(u['name'] or u['id'])}{_num(score_text(u['score']))}"
                + "".join(_num(score_text(u["parts"].get(p))) for p in part_ids) + "</tr>" for u in result["units"]]
        out.append(_table([w["unit"], w["score"], *[p["name"] for p in result["parts"]]], rows))
    out.append("</section>")

    # online rates
    out.append(f'<section id="online"><h2>{escape(w["online"])}</h2>')
    rows = []
    for g in result["online_rates"]:
        worst = g["worst_instant"]
        rows.append(f"<tr>{_cell(g['name'])}{_num(g['devices'])}{_num(pct(g['rate']))}{_num(pct(g['threshold']))}"
                    f"{_cell(w.flag(g['met']), 'bad' if g['met'] is False else 'ok' if g['met'] else '')}"
                    f"{_num(pct(worst['rate']) if worst else None)}{_cell(n.time(worst['at']) if worst else None)}"
                    f"{_num(g['breach_episodes'], g['breach_episodes'] > 0)}{_num(minutes_text(g['minutes_below']))}"
                    f"{_num(hours_text(g['maintenance_hours']))}{_num(hours_text(g['unknown_hours']))}</tr>")
    out.append(_table([w["group"], w["devices"], w["rate"], w["threshold"], w["met"], w["worst"], w["worst_at"],
                       w["episodes"], w["minutes_below"], w["maintenance_hours"], w["unknown_hours"]], rows))
    out.append(f'<p class="note" id="maintenance-note">{escape(maintenance_note(result, w))}</p>')
    windows = maintenance_rows(result)
    if windows:
        out.append(f"<h3>{escape(w['maintenance_list'])}</h3>")
        out.append(_table([w["maintenance_list"], w["unit"], w["start"], w["end"], w["hours"], w["devices"]], [
            f"<tr>{_cell(name)}{_cell(unit)}{_cell(start)}{_cell(end)}{_num(hours_text(hours))}{_num(devices)}</tr>"
            for name, unit, start, end, hours, devices in windows]))
    figures = rate_figures(result, w)
    if figures:
        out.append('<div class="charts">')
        legend = [(w["legend_rate"], BLUE, False), (w["legend_threshold"], RED, True)]
        for group, figure in figures:
            out.append(f'<figure id="chart-{escape(group["group"])}">{to_svg(figure, legend)}'
                       f"<figcaption>{escape(figure.title)}</figcaption></figure>")
        out.append("</div>")
    periods = [(g, p) for g in result["online_rates"] for p in g["important_periods"]]
    if periods:
        out.append(f"<h3>{escape(w['important'])}</h3>")
        out.append(_table([w["group"], w["important"], w["start"], w["end"], w["threshold"], w["rate"], w["met"]], [
            f"<tr>{_cell(g['name'])}{_cell(p['name'])}{_cell(p['first'])}{_cell(p['last'])}{_num(pct(p['threshold']))}"
            f"{_num(pct(p['rate']))}{_cell(w.flag(p['met']), 'bad' if p['met'] is False else 'ok')}</tr>"
            for g, p in periods]))
    episodes = [(g, e) for g in result["online_rates"] for e in g["episodes"]]
    if episodes:
        out.append(f"<h3>{escape(w['episode_list'])}</h3>")
        out.append(_table([w["group"], w["start"], w["end"], w["minutes"], w["threshold"], w["worst"]], [
            f"<tr>{_cell(g['name'])}{_cell(n.time(e['start']))}{_cell(n.time(e['end']))}{_num(minutes_text(e['minutes']))}{_num(pct(e['threshold']))}"
            f"{_num(pct(e['worst_rate']))}</tr>" for g, e in episodes]))
    group_names = {g["group"]: g["name"] for g in result["online_rates"]}
    worst_devices = [d for d in result["devices"] if d["rate"] is not None and d["rate"] < 1][:WORST_DEVICES]
    if worst_devices:
        out.append(f"<h3>{escape(w['device_list'])}</h3>")
        out.append(_table([w["device"], w["group"], w["rate"], w["down_hours"], w["outages"], w["unknown_hours"]], [
            f"<tr>{_cell(d['name'])}{_cell('、'.join(group_names.get(g, g) for g in d['groups']))}{_num(pct(d['rate']))}{_num(hours_text(d['down_hours']))}"
            f"{_num(d['outages'])}{_num(hours_text(d['unknown_hours']))}</tr>" for d in worst_devices]))
    out.append("</section>")

    # faults
    summary = result["faults"]["summary"]
    out.append(f'<section id="faults"><h2>{escape(w["faults"])}</h2><div class="charts">')
    figure = levels_figure(result, w)
    out.append(f'<figure id="chart-levels">{to_svg(figure, [(w["legend_faults"], BLUE, False), (w["legend_overdue"], ORANGE, False)])}'
               f"<figcaption>{escape(figure.title)}</figcaption></figure></div>")
    out.append(_table([w["level"], w["total"], w["overdue"]], [
        f"<tr>{_cell(w['level_label'].format(level=level))}{_num(count)}{_num(overdue, overdue > 0)}</tr>"
        for level, count, overdue in level_rows(result)]))
    out.append(_table([w["resolution_rate"], w["mean_response"], w["worst_response"], w["mean_resolution"],
                       w["worst_resolution"]], [
        f"<tr>{_num(pct(summary['resolution_rate']), summary['resolution_rate_met'] is False)}"
        f"{_num(minutes_text(summary['mean_response_minutes']))}{_num(minutes_text(summary['worst_response_minutes']))}"
        f"{_num(minutes_text(summary['mean_resolution_minutes']))}{_num(minutes_text(summary['worst_resolution_minutes']))}</tr>"]))
    faults, total_faults = listed(notable_faults(result), MAX_ROWS)
    rows = []
    for f, row in zip(faults, fault_rows(result, faults, w), strict=True):
        late = row[9] == w["yes"]
        rows.append("<tr>" + "".join(_cell(v) for v in row[:7]) + _num(row[7], f["response_overdue"])
                    + _num(row[8], f["resolution_overdue"]) + _cell(row[9], "bad" if late else "")
                    + _cell(w.waiver(f["waived"]) if f["waived"] else None) + _cell(f["recurrence_of"]) + "</tr>")
    out.append(_table([w["id"], w["level"], w["unit"], w["system"], w["device"], w["cause"], w["opened"],
                       w["response_min"], w["resolution_min"], w["overdue"], w["waived"], w["recurrence"]], rows))
    out.append(_truncated(w, len(faults), total_faults))
    out.append("</section>")

    # vulnerabilities
    out.append(f'<section id="vulns"><h2>{escape(w["vulns"])}</h2>')
    out.append(_table([w["id"], w["severity"], w["unit"], w["system"], w["name"], w["found"], w["hours_open"],
                       w["limit_hours"], w["overdue"]], [
        f"<tr>{_cell(v['id'])}{_cell(w.severity(v['severity']))}{_cell(n.unit(v['unit']))}{_cell(n.system(v['system']))}"
        f"{_cell(v['name'])}{_cell(n.time(v['found']))}{_num(hours_text(v['hours_open']))}{_num(hours_text(v['limit_hours']))}"
        f"{_cell(w.flag(v['overdue']), 'bad' if v['overdue'] else 'ok')}</tr>" for v in result["vulns"]["items"]]))
    out.append("</section>")

    # daily work
    records = result["records"]
    kinds = sorted(records["counts"])
    out.append(f'<section id="daily"><h2>{escape(w["daily"])}</h2>')
    out.append(_table([w["unit"], *[w.kind(k) for k in kinds]], [
        f"<tr>{_cell(names.get(unit, unit))}" + "".join(_num(counts.get(k, 0)) for k in kinds) + "</tr>"
        for unit, counts in records["by_unit"].items()]))
    out.append("</section>")

    # deductions and penalties
    out.append(f'<section id="details"><h2>{escape(w["details"])}</h2>')
    items, total_items = listed([i for i in all_items(result) if i["points"]], MAX_ROWS)
    out.append(_table([w["part"], w["unit"], w["points"], w["reason"], w["at"]], [
        f"<tr>{_cell(i['part'])}{_cell(n.unit(i['unit']))}{_num(points_text(i['points']), i['points'] < 0)}"
        f"{_cell(i['reason'])}{_cell(n.time(i['at']))}</tr>" for i in items]))
    out.append(_truncated(w, len(items), total_items))
    if result["penalties"]:
        penalties, total_penalties = listed(penalty_rows(result), MAX_ROWS)
        out.append(f"<h3>{escape(w['penalties'])}</h3>")
        out.append(_table([w["penalties"], w["amount"], w["reason"], w["evidence"], w["at"]], [
            f"<tr>{_cell(name)}{_num(amount)}{_cell(reason)}{_cell(evidence)}{_cell(at)}</tr>"
            for name, amount, reason, evidence, at in penalties]))
        out.append(_truncated(w, len(penalties), total_penalties))
    out.append("</section>")
    causes = raw_causes(result, faults)
    if causes:
        out.append(f'<section id="appendix"><h2>{escape(w["appendix"])}</h2>')
        out.append(_table([w["id"], w["device"], w["shown_cause"], w["raw_cause"]],
                          ["<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in causes]))
        out.append("</section>")
    if result["warnings"]:
        out.append(f'<section id="notes"><h2>{escape(w["warnings"])}</h2><ul>'
                   + "".join(f"<li>{escape(x)}</li>" for x in result["warnings"]) + "</ul></section>")
    out.append("</body></html>\n")
    return "".join(out)
