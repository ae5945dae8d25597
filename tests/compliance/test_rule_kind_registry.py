"""A scoring rule kind is one module plus its registration: a test-only module registers one,
and a contract using it validates, is refused when misconfigured (file, line, field) and is
scored by it, with no central file edited."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

import pytest

from compliance.kinds import RULE_KINDS, register_rule_kind, unregister_rule_kind
from core.errors import InputError
from tests.compliance.ledgers import rec
from tests.compliance.test_rules import BASE, NOV, items, score, value


@pytest.fixture(autouse=True)
def fake_kind() -> Iterator[ModuleType]:
    """Import the test-only module (its import registers the kind); forget it afterwards."""
    module = importlib.import_module("tests.compliance.fake_rule_kind")
    if "test_per_record" not in RULE_KINDS:
        register_rule_kind(module.PerRecordRule, module.per_record)
    yield module
    unregister_rule_kind("test_per_record")


RULE = {"kind": "test_per_record", "record": "complaint", "points": 2}


def test_a_contract_part_is_scored_by_the_new_kind() -> None:
    assert "test_per_record" in str(pytest.raises(InputError, score, {"kind": "nope"}).value)  # listed as known
    result = score(RULE, [rec("complaint", "u1", NOV), rec("complaint", "u1", "2026-11-20T09:00")])
    assert value(result) == 6.0  # 10 - 2 x 2
    assert items(result) == [-2.0, -2.0]


def test_a_misconfigured_rule_of_the_new_kind_names_its_field() -> None:
    with pytest.raises(InputError) as caught:
        score({"kind": "test_per_record", "record": "complaint"})
    assert [p.field for p in caught.value.problems] == ["scoring.parts.0.rules.0.points"], caught.value


def test_unregistered_the_kind_is_refused_again() -> None:
    unregister_rule_kind("test_per_record")
    with pytest.raises(InputError) as caught:
        score(RULE)
    assert "unknown rule kind (known: manual, count, per_day, deduction, bonus, documents, consecutive_missing)" in str(
        caught.value
    )


def test_an_inline_contract_in_the_config_may_use_the_new_kind(make_inventory) -> None:  # type: ignore[no-untyped-def]
    contract = {**BASE, "id": "inline", "scoring": {"parts": [{"id": "p", "points": 10, "rules": [RULE]}]}}
    inventory = make_inventory({"devices": [], "contracts": [{"contract": contract}]})
    assert inventory.config.contracts[0].contract.scoring.tables[0].parts[0].rules[0].kind == "test_per_record"
