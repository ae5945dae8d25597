"""The ``documents`` rule: required documents present, as a ratio of the part or points per missing
copy. 「缺失1份按相应比例扣分」: each required document is a share of the points and each required copy
(per week, per fault, per system: 「根据各系统特点…确认需要归档的运维资料目录」) its fraction of that
share; weeks are judged in the period in which they end, yearly documents in the contract year."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from compliance.periods import add_months, contract_year_of, quarter_of, weeks_ending_in
from compliance.rule_models import DocumentsRule, RequiredDocument
from compliance.rules import ZERO, Item, RuleContext, RuleResult, frac, rule_id
from core.timefmt import day_start

DOC_LABELS = 10  # missing copies named in a documents item (the rest counted)


def _doc_windows(doc: RequiredDocument, ctx: RuleContext) -> list[tuple[float, float, str | None, str]]:
    """(start, end, fault id, label) of each copy of ``doc`` due in the period, for one holder."""
    t = ctx.texts
    tz = ctx.contract.timezone
    period = ctx.period
    term = ctx.contract.term
    windows: list[tuple[float, float, str | None, str]] = []
    if doc.frequency == "once":
        windows.append((day_start(term.start, tz) if term else float("-inf"), period.end, None, ""))
    elif doc.frequency == "monthly":
        if period.kind == "year":  # a year's report needs every month's
            for month in range(12):
                first = add_months(period.first, month)
                windows.append((day_start(first, tz), day_start(add_months(first, 1), tz), None,
                                f"（{first.year}-{first.month:02d}）"))
        else:
            windows.append((period.start, period.end, None, ""))
    elif doc.frequency == "weekly":
        # a week is judged when it ends: the week straddling the period's start is this period's
        for first, last in weeks_ending_in(period):
            if day_start(last + timedelta(days=1), tz) <= ctx.now:
                windows.append((day_start(first, tz), day_start(last + timedelta(days=1), tz), None,
                                t("doc_week", first=first.isoformat(), last=last.isoformat())))
    elif doc.frequency == "quarterly":
        if period.kind == "year":
            for quarter in range(4):
                first = add_months(period.first, 3 * quarter)
                windows.append((day_start(first, tz), day_start(add_months(first, 3), tz), None,
                                f"（{first.year}-{first.month:02d} 起）"))
        else:
            quarter_start, ends_quarter = quarter_of(period, term)
            if ends_quarter:
                windows.append((day_start(quarter_start, tz), period.end, None, ""))
    elif doc.frequency == "yearly":
        # looked for in the contract year, judged in the period that ends it
        year_start, ends_year = contract_year_of(period, term)
        if ends_year:
            windows.append((day_start(year_start, tz), period.end, None, ""))
    else:  # per_fault: the faults opened in this period
        for outcome in ctx.faults:
            if not outcome.carried and (doc.levels is None or outcome.fault.level in doc.levels):
                windows.append((outcome.fault.opened, period.end, outcome.fault.id,
                                t("doc_for_fault", id=outcome.fault.id)))
    return windows


def documents(rule: DocumentsRule, ctx: RuleContext) -> RuleResult:
    """「缺失1份按相应比例扣分」: each required document is a share of the points, and within it each
    required copy (per week, per fault, per system) its own fraction (``count: per_copy``)."""
    t = ctx.texts
    by_name: dict[tuple[str, str | None], list[float]] = {}
    by_fault: dict[tuple[str, str], list[float]] = {}
    for r in ctx.records:
        if r.kind == rule.record and r.at < ctx.period.end:
            name = str(r.get("document"))
            by_name.setdefault((name, None), []).append(r.at)
            if r.system is not None:
                by_name.setdefault((name, r.system), []).append(r.at)
            if r.get("fault") is not None:
                by_fault.setdefault((name, str(r.get("fault"))), []).append(r.at)
    share_sum = ZERO
    applicable = 0
    missing: list[tuple[str, list[str], int, Fraction]] = []  # document, absent copies, copies due, share lost
    for doc in rule.required:
        names = {doc.name, *doc.aliases}
        holders: list[tuple[str | None, str]] = [(None, "")]
        if doc.per == "system":
            holders = [(s.id, s.name or s.id) for s in ctx.systems if s.category not in rule.skip_categories
                       and (s.documents is None or doc.name in s.documents)]
        copies = [(system, label, window) for system, label in holders for window in _doc_windows(doc, ctx)]
        if not copies:
            if rule.not_applicable == "present":
                applicable += 1
                share_sum += 1
            continue
        applicable += 1
        absent = []
        for system, label, (start, end, fault_id, which) in copies:
            times = [at for name in names for at in (by_fault.get((name, fault_id), []) if fault_id is not None
                                                     else by_name.get((name, system), []))]
            if not any(start <= at < end for at in times):
                absent.append((f"（{label}）" if label else "") + which)
        present = Fraction(len(copies) - len(absent), len(copies))
        if rule.count == "per_document":
            present = Fraction(0) if absent else Fraction(1)
        share_sum += present
        if absent:
            missing.append((doc.name, absent, len(copies), 1 - present))
    if rule.mode == "per_missing":
        each = frac(rule.points_each or 0)
        items = [Item(rule_id(rule), -each, t("doc_missing", name=name, which=which), unit=ctx.unit)
                 for name, absent, _due, _lost in missing for which in absent]
        return RuleResult(-each * len(items), ZERO, items)
    full = frac(rule.points if rule.points is not None else ctx.part.points)
    if applicable == 0:
        return RuleResult(full, full)
    per_doc = full / applicable
    items = []
    for name, absent, due, lost in missing:  # one item per document, however many copies are missing
        which = "".join(absent[:DOC_LABELS]) + (t("doc_more", more=len(absent) - DOC_LABELS) if len(absent) > DOC_LABELS
                                                else "")
        reason = t("doc_missing", name=name, which=which) if due == 1 else t(
            "doc_missing_copies", name=name, missing=len(absent), due=due, which=which)
        items.append(Item(rule_id(rule), -per_doc * lost, reason, unit=ctx.unit))
    return RuleResult(full * share_sum / applicable, full, items)
