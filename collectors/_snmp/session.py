"""The surface both SNMP engines offer a poller: ``get``, ``get_bulk``/``get_next`` and walks.

Errors are typed so a collector can put the right words in a Sample:

- ``SnmpTimeout``: nothing came back (for v1/v2c this may also be a wrong community: an
  agent drops such requests silently);
- ``SnmpAuthError``: the agent told us (v3 reports) or we proved (v3 discovery answered
  while the community got silence) that the credentials are wrong;
- ``SnmpErrorStatus``: the agent answered with an error-status (tooBig, genErr, ...);
- ``SnmpProtocolError``: the reply could not be decoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from collectors._snmp.ber import END_OF_MIB_VIEW, ERROR_STATUS_NAMES, Oid, VarBind, format_oid

# The most of a walk's values one device's poll keeps (an agent answering every GETBULK with
# 60 KB strings and ever-increasing OIDs would otherwise fill memory; see docs/bounds.md).
MAX_WALK_BYTES = 4 * 1024 * 1024


class SnmpError(Exception):
    """Base of every SNMP failure; ``str()`` is a sentence for a Sample's error."""


class SnmpTimeout(SnmpError):
    pass


class SnmpAuthError(SnmpError):
    pass


class SnmpProtocolError(SnmpError):
    pass


class SnmpErrorStatus(SnmpError):
    def __init__(self, status: int, index: int, oids: Sequence[Oid]) -> None:
        self.status, self.index = status, index
        name = ERROR_STATUS_NAMES.get(status, f"error {status}")
        where = f" at {format_oid(oids[index - 1])}" if 0 < index <= len(oids) else ""
        super().__init__(f"agent answered {name}{where}")


class Session(Protocol):
    """One device's SNMP endpoint with its credentials, timeout and retries."""

    version: int  # 0 = v1, 1 = v2c, 3 = v3
    host: str
    port: int

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]: ...

    async def get_next(self, oids: Sequence[Oid]) -> list[VarBind]: ...

    async def get_bulk(self, oids: Sequence[Oid], max_repetitions: int) -> list[VarBind]: ...


def in_subtree(oid: Oid, root: Oid) -> bool:
    return oid[: len(root)] == root


async def walk_columns(
    session: Session, roots: Sequence[Oid], max_repetitions: int = 25, max_rows: int = 20000, max_bytes: int = MAX_WALK_BYTES
) -> tuple[dict[Oid, list[VarBind]], list[str]]:
    """Walk several table columns together (one GETBULK carries them all; GETNEXT on v1).

    Returns the rows of each root and the problems met (a non-increasing OID from a buggy
    agent, a walk cut at ``max_rows`` rows of a column or ``max_bytes`` of values in all). The
    walk of a column stops when its OIDs leave the column, at endOfMibView, or on an exception
    value.
    """
    kept = 0
    rows: dict[Oid, list[VarBind]] = {root: [] for root in roots}
    cursor: dict[Oid, Oid] = {root: root for root in roots}
    problems: list[str] = []
    while cursor:
        active = list(cursor)
        request = [cursor[root] for root in active]
        if session.version == 0:
            answer = await session.get_next(request)
            repetitions = 1
        else:
            answer = await session.get_bulk(request, max_repetitions)
            repetitions = max(1, -(-len(answer) // len(active)))
        if not answer:
            break
        finished: set[Oid] = set()
        for rep in range(repetitions):
            for column, root in enumerate(active):
                position = rep * len(active) + column
                if position >= len(answer) or root in finished:
                    continue
                varbind = answer[position]
                if varbind.tag == END_OF_MIB_VIEW or varbind.is_exception or not in_subtree(varbind.oid, root):
                    finished.add(root)
                    continue
                if varbind.oid <= cursor[root]:
                    problems.append(f"agent returned a non-increasing OID in {format_oid(root)}: walk stopped")
                    finished.add(root)
                    continue
                rows[root].append(varbind)
                cursor[root] = varbind.oid
                kept += len(varbind.value) if isinstance(varbind.value, bytes | tuple) else 8
                if kept > max_bytes:
                    problems.append(f"walk of {format_oid(root)} cut at {max_bytes // (1024 * 1024)} MiB of values")
                    finished.update(active)
                    break
                if len(rows[root]) >= max_rows:
                    problems.append(f"walk of {format_oid(root)} cut at {max_rows} rows")
                    finished.add(root)
        for root in finished:
            cursor.pop(root, None)
        if session.version == 0 and len(answer) < len(active):
            break
    return rows, problems
