"""Reading a contract file: YAML validated as a ``Contract``, then the references inside it
checked against each other; every mistake is an ``InputError`` naming file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compliance.contract import Contract
from compliance.events import NOTICE_LEVELS, SEVERITIES
from compliance.kinds import RULE_MODELS
from compliance.rule_models import BonusRule, CountRule, DeductionRule, DocumentsRule, ManualRule
from core.errors import InputError, InputProblem
from inventory.plugins import load_plugins
from inventory.yamlsource import Located, load_yaml, without_union_tags


def cross_problems(contract: Contract, located: Located, data: dict[str, Any],
                   prefix: tuple[str | int, ...] = ()) -> list[InputProblem]:
    """References inside a contract that point nowhere, duplicate ids."""
    problems: list[InputProblem] = []

    def problem(path: tuple[str | int, ...], message: str) -> None:
        problems.append(located.problem((*prefix, *path), message))

    def unique(items: list[Any], path: tuple[str | int, ...], what: str) -> set[str]:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.id in seen:
                problem((*path, index, "id"), f"duplicate {what} id {item.id!r}")
            seen.add(item.id)
        return seen

    units = unique(contract.units, ("units",), "unit")
    systems = unique(contract.systems, ("systems",), "system")
    unique(contract.online_rate.groups, ("online_rate", "groups"), "group")
    unique(contract.penalties, ("penalties",), "penalty")
    for index, system in enumerate(contract.systems):
        if system.unit is not None and units and system.unit not in units:
            problem(("systems", index, "unit"), f"unknown unit {system.unit!r} (declare it under units:)")
    tables = contract.scoring.tables or []
    part_ids: set[str] = set()
    scoring_data = data.get("scoring") if isinstance(data.get("scoring"), dict) else {}
    has_tables = "tables" in (scoring_data or {})
    for t_index, table in enumerate(tables):
        table_path: tuple[str | int, ...] = ("scoring", "tables", t_index) if has_tables else ("scoring",)
        for index, system in enumerate(table.systems):
            if systems and system not in systems:
                problem((*table_path, "systems", index), f"unknown system {system!r}")
        for p_index, part in enumerate(table.parts):
            part_path = (*table_path, "parts", p_index)
            if part.id in part_ids:
                problem((*part_path, "id"), f"duplicate part id {part.id!r} (part ids are unique across tables)")
            part_ids.add(part.id)
            earned = [r for r in part.rules if isinstance(r, CountRule | ManualRule)]
            if part.start == "zero" and earned and all(isinstance(r, CountRule) for r in earned):
                total = sum(r.max_points() for r in earned if isinstance(r, CountRule))
                if total != part.points:
                    problem((*part_path, "rules"), f"the counting rules give at most {total:g} points but the part has"
                            f" {part.points:g}")
            subitems = unique(part.subitems, (*part_path, "subitems"), "sub-item")
            for r_index, rule in enumerate(part.rules):
                if rule.subitem is not None and rule.subitem not in subitems:
                    problem((*part_path, "rules", r_index, "subitem"),
                            f"unknown sub-item {rule.subitem!r} (declare it under the part's subitems:)")
                if isinstance(rule, DocumentsRule):
                    for d_index, doc in enumerate(rule.required):
                        if doc.levels and any(level not in (1, 2, 3, 4) for level in doc.levels):
                            problem((*part_path, "rules", r_index, "required", d_index, "levels"), "levels are 1-4")
                if isinstance(rule, DeductionRule | BonusRule) and rule.points_by is not None:
                    known = {"level": {"1", "2", "3", "4"}, "severity": set(SEVERITIES)}.get(rule.points_by.field)
                    if rule.record == "notice" and rule.points_by.field == "level":
                        known = set(NOTICE_LEVELS)
                    if known is not None:
                        bad = [k for k in rule.points_by.map if k not in known]
                        if bad:
                            problem((*part_path, "rules", r_index, "points_by", "map"),
                                    f"unknown {rule.points_by.field} value(s) {bad} (known: {', '.join(sorted(known))})")
    default_part = contract.scoring.default_part
    if default_part is not None and default_part not in part_ids:
        problem(("scoring", "default_part"), f"unknown part {default_part!r}")
    return problems



def contract_problems(exc: ValidationError, located: Located, data: Any,
                      prefix: tuple[str | int, ...] = ()) -> list[InputProblem]:
    """Pydantic errors as problems naming file, line and field."""
    problems = []
    for error in exc.errors():
        loc = without_union_tags(data, [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))], ("kind",))
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see examples/contracts/)"
        elif error["type"] == "union_tag_invalid":
            message = f"unknown rule kind (known: {', '.join(RULE_MODELS.entries)})"
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        problems.append(located.problem((*prefix, *loc), message))
    return problems


def contract_from_data(data: Any, located: Located, prefix: tuple[str | int, ...] = ()) -> Contract:
    """Validate a contract mapping; raises InputError with every problem."""
    if not isinstance(data, dict):
        raise InputError([located.problem(prefix, "a contract must be a mapping (key: value)")])
    load_plugins()  # rule kinds of compliance/rulekinds/ and of plugin packages, even without a config
    try:
        contract = Contract.model_validate(data)
    except ValidationError as exc:
        raise InputError(contract_problems(exc, located, data, prefix)) from None
    problems = cross_problems(contract, located, data, prefix)
    if problems:
        raise InputError(problems)
    return contract


def load_contract(path: str | Path, text: str | None = None) -> Contract:
    """Read and validate a contract file."""
    located = load_yaml(path, text)
    return contract_from_data(located.data, located)
