"""Decoding what agents push: SNMPv1 Trap-PDUs, SNMPv2 Trap and InformRequest PDUs (RFC 3416),
SNMPv3 notifications through USM (RFC 3414), and the replies a receiver owes (a Response to an
INFORM, a Report to a v3 discovery probe).

v1 traps are translated as RFC 3584 §3.1 says: generic traps 0..5 become
``snmpTraps.(generic + 1)`` (coldStart … egpNeighborLoss), an enterprise-specific one
``enterprise.0.specific``, so every notification has one ``trap_oid``.

Everything malformed raises ``NotificationError``; nothing else escapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from collectors._snmp import ber, usm
from collectors._snmp.ber import Oid, VarBind
from collectors._snmp.ber_responder import encode_response, encode_value
from collectors._snmp.session import SnmpProtocolError

TRAP_V1 = 0xA4
INFORM = 0xA6
TRAP_V2 = 0xA7
NOTIFICATION_TAGS = frozenset({TRAP_V1, INFORM, TRAP_V2})

SYS_UPTIME_0: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SNMP_TRAP_OID_0: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SNMP_TRAPS: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 5)
SNMP_TRAP_ADDRESS_0: Oid = (1, 3, 6, 1, 6, 3, 18, 1, 3, 0)
UNKNOWN_ENGINE_IDS: Oid = usm.UNKNOWN_ENGINE_ID


class NotificationError(ValueError):
    """Not a notification we can read (garbled, truncated, or another PDU type)."""


@dataclass(slots=True)
class Notification:
    version: int  # 0 = v1, 1 = v2c, 3 = v3
    pdu_type: int
    request_id: int
    trap_oid: Oid
    varbinds: list[VarBind]  # without sysUpTime.0 and snmpTrapOID.0
    uptime: int | None = None  # TimeTicks
    community: bytes = b""
    agent_address: str | None = None  # v1 agent-addr
    user: bytes = b""
    context_engine_id: bytes = b""
    context_name: bytes = b""
    raw_varbinds: list[VarBind] = field(default_factory=list)  # as received (an INFORM's answer echoes them)

    @property
    def is_inform(self) -> bool:
        return self.pdu_type == INFORM


def _pdu(data: bytes, pos: int, stop: int, version: int) -> Notification:
    h, e, integer = ber.read_header, ber.expect_tag, ber.read_int
    tag, pstart, pstop = h(data, pos, stop)
    if tag not in NOTIFICATION_TAGS:
        raise NotificationError(f"not a notification PDU (tag 0x{tag:02x})")
    if tag == TRAP_V1:
        ostart, ostop = e(data, pstart, pstop, ber.OBJECT_IDENTIFIER)
        enterprise = ber.decode_oid(data[ostart:ostop])
        atag, astart, astop = h(data, ostop, pstop)  # agent-addr: IpAddress (some agents send an OCTET STRING)
        address = ".".join(str(b) for b in data[astart:astop]) if astop - astart == 4 else None
        gstart, gstop = e(data, astop, pstop, ber.INTEGER)
        sstart, sstop = e(data, gstop, pstop, ber.INTEGER)
        _, tstart, tstop = h(data, sstop, pstop)  # time-stamp
        lstart, lstop = e(data, tstop, pstop, ber.SEQUENCE)
        generic, specific = integer(data, gstart, gstop), integer(data, sstart, sstop)
        trap_oid = (*SNMP_TRAPS, generic + 1) if 0 <= generic < 6 else (*enterprise, 0, specific)
        varbinds = ber.decode_varbinds(data, lstart, lstop)
        uptime = int.from_bytes(data[tstart:tstop], "big") if tstop > tstart else None
        return Notification(version, tag, 0, trap_oid, varbinds, uptime, agent_address=address, raw_varbinds=varbinds)
    rstart, rstop = e(data, pstart, pstop, ber.INTEGER)
    _, _, pos = h(data, rstop, pstop)  # error-status
    _, _, pos = h(data, pos, pstop)  # error-index
    lstart, lstop = e(data, pos, pstop, ber.SEQUENCE)
    raw = ber.decode_varbinds(data, lstart, lstop)
    uptime, trap_oid, rest = None, None, []
    for varbind in raw:
        if varbind.oid == SYS_UPTIME_0 and uptime is None and isinstance(varbind.value, int):
            uptime = varbind.value
        elif varbind.oid == SNMP_TRAP_OID_0 and trap_oid is None and isinstance(varbind.value, tuple):
            trap_oid = varbind.value
        else:
            rest.append(varbind)
    if trap_oid is None:
        raise NotificationError("notification without snmpTrapOID.0")
    return Notification(version, tag, integer(data, rstart, rstop), trap_oid, rest, uptime, raw_varbinds=raw)


def _guard(function):  # type: ignore[no-untyped-def]
    def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return function(*args, **kwargs)
        except NotificationError:
            raise
        except (ber.BerError, SnmpProtocolError, IndexError, ValueError, TypeError, OverflowError) as exc:
            raise NotificationError(str(exc) or type(exc).__name__) from None

    return wrapped


@_guard
def message_version(data: bytes) -> int:
    start, stop = ber.expect_tag(data, 0, len(data), ber.SEQUENCE)
    vstart, vstop = ber.expect_tag(data, start, stop, ber.INTEGER)
    return ber.read_int(data, vstart, vstop)


@_guard
def decode_community(data: bytes) -> Notification:
    """A v1 or v2c notification (the community is in the result, checked by the caller)."""
    start, stop = ber.expect_tag(data, 0, len(data), ber.SEQUENCE)
    vstart, vstop = ber.expect_tag(data, start, stop, ber.INTEGER)
    version = ber.read_int(data, vstart, vstop)
    if version not in (0, 1):
        raise NotificationError(f"not SNMPv1/v2c (version code {version})")
    cstart, cstop = ber.expect_tag(data, vstop, stop, ber.OCTET_STRING)
    notification = _pdu(data, cstop, stop, version)
    notification.community = bytes(data[cstart:cstop])
    if version == 0 and notification.pdu_type != TRAP_V1 or version == 1 and notification.pdu_type == TRAP_V1:
        raise NotificationError("PDU type does not match the SNMP version")
    return notification


@_guard
def decode_v3_header(data: bytes) -> usm.V3Message:
    return usm.decode_message(data)


@_guard
def decode_scoped(scoped: bytes) -> Notification:
    """The notification inside a (decrypted) ScopedPDU; DES padding after it is ignored."""
    start, stop = ber.expect_tag(scoped, 0, len(scoped), ber.SEQUENCE)
    estart, estop = ber.expect_tag(scoped, start, stop, ber.OCTET_STRING)
    nstart, nstop = ber.expect_tag(scoped, estop, stop, ber.OCTET_STRING)
    notification = _pdu(scoped, nstop, stop, 3)
    notification.context_engine_id = bytes(scoped[estart:estop])
    notification.context_name = bytes(scoped[nstart:nstop])
    return notification


@_guard
def request_id_of_scoped(scoped: bytes) -> tuple[int, int]:
    """(PDU tag, request-id) of any ScopedPDU (a v3 discovery probe is a GET or an INFORM)."""
    start, stop = ber.expect_tag(scoped, 0, len(scoped), ber.SEQUENCE)
    _, _, pos = ber.read_header(scoped, start, stop)
    _, _, pos = ber.read_header(scoped, pos, stop)
    tag, pstart, pstop = ber.read_header(scoped, pos, stop)
    rstart, rstop = ber.expect_tag(scoped, pstart, pstop, ber.INTEGER)
    return tag, ber.read_int(scoped, rstart, rstop)


def _response_pdu(request_id: int, varbinds: list[VarBind], tag: int = ber.RESPONSE) -> bytes:
    body = b"".join(ber.tlv(ber.SEQUENCE, ber.encode_oid(vb.oid) + encode_value(vb.tag, vb.value)) for vb in varbinds)
    return ber.tlv(tag, ber.encode_int(request_id) + ber.encode_int(0) + ber.encode_int(0) + ber.tlv(ber.SEQUENCE, body))


def community_trap(community: bytes, trap_oid: Oid, varbinds: list[VarBind], uptime: int, request_id: int = 1) -> bytes:
    """An SNMPv2c Trap as a device sends it (RFC 3416 §4.2.6): sysUpTime.0 and snmpTrapOID.0,
    then the trap's own varbinds (the demo's devices and the benchmark send these)."""
    head = [VarBind(SYS_UPTIME_0, ber.TIMETICKS, uptime), VarBind(SNMP_TRAP_OID_0, ber.OBJECT_IDENTIFIER, trap_oid)]
    pdu = _response_pdu(request_id, [*head, *varbinds], tag=TRAP_V2)
    return ber.tlv(ber.SEQUENCE, ber.encode_int(1) + ber.tlv(ber.OCTET_STRING, community) + pdu)


def community_response(notification: Notification) -> bytes:
    """The Response that acknowledges a v2c INFORM: same request-id, the varbinds echoed."""
    return encode_response(1, notification.community, notification.request_id, notification.raw_varbinds)


def v3_reply(
    message_id: int,
    engine_id: bytes,
    boots: int,
    engine_time: int,
    user: bytes,
    scoped_pdu: bytes,
    auth_protocol: str | None = None,
    auth_key: bytes = b"",
    priv_protocol: str | None = None,
    priv_key: bytes = b"",
) -> bytes:
    """A v3 message from this (authoritative) receiver: a Report or a Response, secured as asked."""
    flags = 0
    priv_params = b""
    msg_data = scoped_pdu
    if auth_protocol is not None:
        flags |= usm.FLAG_AUTH
    if priv_protocol is not None:
        flags |= usm.FLAG_PRIV
        encrypted, priv_params = usm.encrypt(priv_protocol, priv_key, boots, engine_time, scoped_pdu)
        msg_data = ber.tlv(ber.OCTET_STRING, encrypted)
    auth_length = usm.HASHES[auth_protocol][1] if auth_protocol else 0
    message, offset = usm.encode_message(
        message_id, flags, engine_id, boots, engine_time, user, auth_length, priv_params, msg_data
    )
    if auth_protocol is not None:
        return usm.sign(message, offset, auth_protocol, auth_key)
    return bytes(message)


def scoped(engine_id: bytes, pdu: bytes, context_name: bytes = b"") -> bytes:
    return ber.tlv(ber.SEQUENCE, ber.tlv(ber.OCTET_STRING, engine_id) + ber.tlv(ber.OCTET_STRING, context_name) + pdu)


def report_pdu(request_id: int, counter_oid: Oid, count: int) -> bytes:
    return _response_pdu(request_id, [VarBind(counter_oid, ber.COUNTER32, count)], tag=ber.REPORT)


def response_pdu(request_id: int, varbinds: list[VarBind]) -> bytes:
    return _response_pdu(request_id, varbinds)


@lru_cache(maxsize=65536)
def oid_text(oid: Oid) -> str:
    """``1.3.6.1.2.1.2.2.1.1.3`` (cached: a trap receiver sees the same OIDs over and over)."""
    return ber.format_oid(oid)


def value_text(varbind: VarBind) -> str:
    """A varbind's value as a short text (OIDs dotted, printable strings as text, else hex)."""
    value = varbind.value
    if type(value) is int:
        return str(value)
    if value is None:
        return ber.TYPE_NAMES.get(varbind.tag, "")
    if isinstance(value, tuple):
        return oid_text(value)
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = value.decode("gb18030")
            except UnicodeDecodeError:
                return value.hex(":")[:512]
        printable = text.isprintable() or all(c.isprintable() or c in "\r\n\t" for c in text)
        return text[:512] if printable else value.hex(":")[:512]
    return str(value)
