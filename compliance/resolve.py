"""Finding a contract by name: a path to a contract file, or an entry of the config's ``contracts:``."""

from __future__ import annotations

from pathlib import Path

from compliance.contract import Contract
from compliance.contract_file import load_contract
from core.errors import InputError, InputProblem


def _base(inventory: object | None) -> Path:
    source = getattr(inventory, "source", "") or ""
    return Path(source).resolve().parent if source not in ("", "<defaults>") else Path.cwd()


def configured(inventory: object | None) -> list[tuple[str | None, str | None, Contract | None]]:
    """(id, resolved file, inline contract) of each ``contracts:`` entry."""
    config = getattr(inventory, "config", None)
    refs = getattr(config, "contracts", None) or []
    base = _base(inventory)
    result = []
    for ref in refs:
        file = str(base / ref.file) if ref.file else None
        result.append((ref.id, file, ref.contract))
    return result


def load_configured(inventory: object | None) -> tuple[list[tuple[str, str, Contract]], list[InputProblem]]:
    """Every contract the config names, loaded: ([(id, where, contract)], problems)."""
    loaded: list[tuple[str, str, Contract]] = []
    problems: list[InputProblem] = []
    for ref_id, file, inline in configured(inventory):
        try:
            contract = inline if inline is not None else load_contract(file or "")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        loaded.append((ref_id or contract.id, file or "inline", contract))
    return loaded, problems


def resolve_contract(name: str, inventory: object | None) -> tuple[Contract, str]:
    """The contract called ``name`` (its id, the id given in the config, a file stem) or at path ``name``.

    Returns the contract and where it came from; raises InputError for an unknown name."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise InputError.single(name, "contract file not found", field="--contract")
        return load_contract(path), str(path)
    entries = configured(inventory)
    for ref_id, file, inline in entries:
        if inline is not None and (ref_id == name or inline.id == name):
            return inline, "config (inline)"
        if file is not None and (ref_id == name or Path(file).stem == name):
            return load_contract(file), file
    for ref_id, file, _inline in entries:
        if file is not None and ref_id is None:
            contract = load_contract(file)
            if contract.id == name:
                return contract, file
    known = []
    for ref_id, file, inline in entries:
        known.append(ref_id or (inline.id if inline else Path(file or "").stem))
    hint = f"known: {', '.join(known)}" if known else "the config lists no contracts:"
    raise InputError.single("command line", f"unknown contract {name!r} ({hint}; or give a contract file path)",
                            field="--contract")
