"""Glue between the command line and the pure calculation: find the contract and the period,
load the ledger (store or file), compute once, render in the format asked for."""

from __future__ import annotations

import gc
import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from compliance.calculate import compute
from compliance.contract import Contract
from compliance.display import money_text, score_text
from compliance.ledger import Ledger
from compliance.periods import Period, contract_period
from compliance.resolve import resolve_contract
from core.errors import InputError
from core.timefmt import day_start, parse_when
from store.db import open_store

LOOKBACK_DAYS = 400


LONG = 1000  # lists longer than this are encoded a chunk of items at a time
CHUNK = 500


def _write_value(out: io.BytesIO, value: Any) -> None:
    if isinstance(value, list) and len(value) > LONG:
        # CHUNK items per encoder call (one call per item cost 1 s for 93,000 items); a chunk's list
        # without its brackets is the items joined by ", ", as the encoder writes a whole list
        out.write(b"[")
        for position in range(0, len(value), CHUNK):
            if position:
                out.write(b", ")
            out.write(json.dumps(value[position:position + CHUNK], ensure_ascii=False)[1:-1].encode("utf-8"))
        out.write(b"]")
    elif isinstance(value, dict) and any(isinstance(v, list) and len(v) > LONG for v in value.values()):
        out.write(b"{")
        for position, (name, inner) in enumerate(value.items()):
            out.write(f"{', ' if position else ''}{json.dumps(name)}: ".encode())
            _write_value(out, inner)
        out.write(b"}")
    else:
        out.write(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def render_json(result: dict[str, Any]) -> bytes:
    """One top-level key per line, each value compact (the C encoder: a 10,000-device month in a
    fraction of a second, where indent=2 takes seconds). Long lists are encoded item by item into
    one buffer (the same bytes): encoding a 50,000-item list whole held ~200 MB of pieces at once."""
    out = io.BytesIO()
    out.write(b"{\n")
    for index, (key, value) in enumerate(result.items()):
        out.write(f"{',' + chr(10) if index else ''}  {json.dumps(key)}: ".encode())
        _write_value(out, value)
    out.write(b"\n}\n")
    return out.getvalue()


def render(result: dict[str, Any], fmt: str) -> bytes:
    """The same result in one of the formats."""
    if fmt == "json":
        return render_json(result)
    if fmt == "xlsx":
        from compliance.render_xlsx import render_xlsx

        return render_xlsx(result)
    if fmt == "html":
        from compliance.render_html import render_html

        return render_html(result).encode("utf-8")
    if fmt == "docx":
        from compliance.render_docx import render_docx

        return render_docx(result)
    raise InputError.single("command line", f"unknown format {fmt!r}", field="--format")


def load_period_ledger(contract: Contract, period: Period, inventory: object | None, ledger_file: str | None,
                       progress: Callable[[str], None]) -> Ledger:
    if ledger_file:
        from compliance.ledgerio import ledger_from_file

        progress(f"reading {ledger_file}")
        return ledger_from_file(ledger_file, default_agent="")
    from compliance.ledgerio import load_ledger

    lookback = LOOKBACK_DAYS * 86400.0
    if contract.term is not None:
        lookback = max(lookback, period.start - day_start(contract.term.start, contract.timezone) + 86400)
    if inventory is None:
        raise InputError.single("command line", "no config to find the store: give -c CONFIG or --ledger FILE")
    data_dir = inventory.data_dir  # type: ignore[attr-defined]
    progress(f"loading the ledger from {data_dir}")
    with open_store(data_dir) as store:
        return load_ledger(store, period.start, period.end, lookback=lookback, progress=progress)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """The ledger and the result are millions of long-lived objects without reference cycles: each
    of the collector's full passes walked all of them (~1 s CPU of a 50,000-device month, for
    nothing). Reference counting still frees all of them; a cycle waits for the collector's return."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _collecting_new_objects_only() -> Iterator[None]:
    """Rendering makes cycles (matplotlib's figures, openpyxl's workbook): the collector runs, but
    over what rendering makes, not over the ledger and the result (frozen meanwhile)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def generate(
    contract_name: str,
    period_text: str,
    fmt: str,
    inventory: object | None,
    ledger_file: str | None = None,
    now_text: str | None = None,
    language: str | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> tuple[bytes, str]:
    """(the report's bytes, a one-line summary)."""
    contract, source = resolve_contract(contract_name, inventory)
    progress(f"contract {contract.id} ({source})")
    try:
        period = contract_period(contract, period_text)
    except ValueError as exc:
        raise InputError.single("command line", str(exc), field="--period") from None
    if now_text:
        try:
            now = parse_when(now_text, contract.timezone)
        except ValueError as exc:
            raise InputError.single("command line", str(exc), field="--now") from None
    else:
        now = time.time()
    if now <= period.start:
        raise InputError.single("command line", f"period {period_text} has not started yet", field="--period")
    agent = getattr(inventory, "agent", None)
    lang = language or getattr(agent, "language", "zh") or "zh"
    with _without_cycle_collection():
        ledger = load_period_ledger(contract, period, inventory, ledger_file, progress)
        result = compute(contract, ledger, period, now, inventory=inventory, language=lang, progress=progress)
    progress(f"rendering {fmt}")
    with _collecting_new_objects_only():
        data = render(result, fmt)
    cut = result["cut_amount"]
    summary = (f"{contract.id} {period.label}: score {score_text(result['score'])}, {result['grade']},"
               f" cut {result['cut_percent']:g}%" + (f" = {money_text(cut)}" if cut is not None else "")
               + f", penalties {money_text(result['penalty_amount'])}"
               + (f" (provisional: {'; '.join(result['period']['provisional_reasons'])})"
                  if result["period"]["provisional"] else ""))
    return data, summary
