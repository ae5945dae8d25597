"""Values out of SNMP answers: many OIDs in bounded GETs, varbinds read as text or numbers
(a wrong type becomes a problem naming what came instead, never an exception)."""

from __future__ import annotations

from collections.abc import Sequence

from collectors._snmp import ber
from collectors._snmp.ber import Oid, VarBind
from collectors._snmp.session import Session

MAX_VARBINDS = 48
NUMERIC_TAGS = frozenset({ber.INTEGER, ber.COUNTER32, ber.GAUGE32, ber.TIMETICKS, ber.COUNTER64})
COUNTER_TAGS = frozenset({ber.COUNTER32, ber.COUNTER64})


async def get_many(session: Session, wanted: Sequence[Oid]) -> list[VarBind]:
    """GET any number of OIDs, ``MAX_VARBINDS`` per request; answers in the order asked."""
    out: list[VarBind] = []
    for start in range(0, len(wanted), MAX_VARBINDS):
        chunk = list(wanted[start : start + MAX_VARBINDS])
        answer = await session.get(chunk)
        for asked, got in zip(chunk, answer, strict=False):
            if got.oid != asked and not got.is_exception:
                out.append(VarBind(asked, ber.NO_SUCH_INSTANCE, None))
            else:
                out.append(got)
        if len(answer) < len(chunk):
            out.extend(VarBind(o, ber.NO_SUCH_INSTANCE, None) for o in chunk[len(answer) :])
    return out


def text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip("\x00").strip()
    if isinstance(value, tuple):
        return ber.format_oid(value)
    return "" if value is None else str(value)


def numeric(varbind: VarBind, what: str, problems: list[str], counter: bool = False) -> int | float | None:
    """The number in a varbind, or None with a problem saying what came instead."""
    if varbind.is_exception:
        problems.append(f"{what}: {varbind.type_name} ({ber.format_oid(varbind.oid)})")
        return None
    if counter and varbind.tag not in COUNTER_TAGS:
        problems.append(f"{what}: expected a Counter32/Counter64, got {varbind.type_name}")
        return None
    if varbind.tag in NUMERIC_TAGS:
        return int(varbind.value)
    if varbind.tag in (ber.OCTET_STRING, ber.OPAQUE) and not counter:
        try:
            return float(text(varbind.value))
        except ValueError:
            pass
    shown = text(varbind.value)[:40]
    problems.append(f"{what}: expected a number, got {varbind.type_name}" + (f" {shown!r}" if shown else ""))
    return None


def fast_number(varbind: VarBind) -> int | None:
    """The integer of a well-typed varbind, else None (the caller then says what was wrong)."""
    return varbind.value if varbind.tag in NUMERIC_TAGS else None
