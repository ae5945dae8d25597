"""A minimal BER codec for SNMPv1/v2c messages (RFC 1157, RFC 3416) and the SNMPv3 discovery probe.

Only what a manager needs: encode GetRequest / GetNextRequest / GetBulkRequest, decode a
Response (or a v3 Report); the responder's side (requests decoded, responses encoded) is
``collectors._snmp.ber_responder``. Values are decoded to plain Python: ``int`` for INTEGER and the
application integer types, ``bytes`` for OCTET STRING and Opaque, ``tuple[int, ...]`` for an
OBJECT IDENTIFIER, ``str`` for an IpAddress, ``None`` for NULL and the v2 exceptions. Each
varbind keeps its BER tag so a caller can tell a Counter64 from an OCTET STRING.

A malformed message raises ``BerError``; nothing else escapes the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

Oid = tuple[int, ...]

# Universal and SNMP application tags.
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
SEQUENCE = 0x30
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

# PDU tags.
GET = 0xA0
GET_NEXT = 0xA1
RESPONSE = 0xA2
GET_BULK = 0xA5
REPORT = 0xA8

INTEGER_TAGS = frozenset({INTEGER, COUNTER32, GAUGE32, TIMETICKS, COUNTER64})
EXCEPTION_TAGS = frozenset({NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})

TYPE_NAMES = {
    INTEGER: "INTEGER",
    OCTET_STRING: "OCTET STRING",
    NULL: "NULL",
    OBJECT_IDENTIFIER: "OBJECT IDENTIFIER",
    IP_ADDRESS: "IpAddress",
    COUNTER32: "Counter32",
    GAUGE32: "Gauge32",
    TIMETICKS: "TimeTicks",
    OPAQUE: "Opaque",
    COUNTER64: "Counter64",
    NO_SUCH_OBJECT: "noSuchObject",
    NO_SUCH_INSTANCE: "noSuchInstance",
    END_OF_MIB_VIEW: "endOfMibView",
}

ERROR_STATUS_NAMES = {
    0: "noError",
    1: "tooBig",
    2: "noSuchName",
    3: "badValue",
    4: "readOnly",
    5: "genErr",
    6: "noAccess",
    7: "wrongType",
    8: "wrongLength",
    9: "wrongEncoding",
    10: "wrongValue",
    11: "noCreation",
    12: "inconsistentValue",
    13: "resourceUnavailable",
    14: "commitFailed",
    15: "undoFailed",
    16: "authorizationError",
    17: "notWritable",
    18: "inconsistentName",
}


class BerError(ValueError):
    """A message that is not valid BER/SNMP."""


class VarBind(NamedTuple):
    """One OID and its value, with the value's BER tag (a tuple: cheap to make by the thousand)."""

    oid: Oid
    tag: int
    value: Any

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.tag, f"tag 0x{self.tag:02x}")

    @property
    def is_exception(self) -> bool:
        return self.tag in EXCEPTION_TAGS


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded Response/Report PDU (v1/v2c, or v3 when ``version`` is 3)."""

    version: int
    request_id: int
    pdu_type: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]
    message_id: int | None = None  # v3 msgID


# -- encoding -------------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def encode_int(value: int, tag: int = INTEGER) -> bytes:
    if value == 0:
        return bytes((tag, 1, 0))
    size = (value.bit_length() + 8) // 8  # room for the sign bit
    body = value.to_bytes(size, "big", signed=True)
    return tlv(tag, body)


_ENCODED: dict[Oid, bytes] = {}
_DECODED: dict[bytes, Oid] = {}
_VARBIND_LISTS: dict[tuple[Oid, ...], bytes] = {}
CACHE_LIMIT = 200_000  # entries; a round over a large fleet repeats the same OIDs


def encode_oid(oid: Oid) -> bytes:
    cached = _ENCODED.get(oid)
    if cached is None:
        cached = _encode_oid(oid)
        if len(_ENCODED) >= CACHE_LIMIT:
            _ENCODED.clear()
        _ENCODED[oid] = cached
    return cached


def _encode_oid(oid: Oid) -> bytes:
    if len(oid) < 2:
        raise ValueError(f"OID {oid!r} needs at least two arcs")
    out = bytearray((oid[0] * 40 + oid[1],))
    for arc in oid[2:]:
        if arc < 0x80:
            out.append(arc)
        else:
            chunk = bytearray()
            while arc:
                chunk.append((arc & 0x7F) | 0x80)
                arc >>= 7
            chunk[0] &= 0x7F
            out += chunk[::-1]
    return tlv(OBJECT_IDENTIFIER, bytes(out))


_NULL = b"\x05\x00"


def encode_request(
    version: int,
    community: bytes,
    pdu_type: int,
    request_id: int,
    oids: list[Oid],
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A v1 (0) or v2c (1) request message asking for ``oids``."""
    pdu = encode_pdu(pdu_type, request_id, oids, non_repeaters, max_repetitions)
    return tlv(SEQUENCE, encode_int(version) + tlv(OCTET_STRING, community) + pdu)


def encode_pdu(pdu_type: int, request_id: int, oids: list[Oid], non_repeaters: int = 0, max_repetitions: int = 0) -> bytes:
    """A request PDU (all values NULL); the varbind list of a given OID list is cached."""
    key = tuple(oids)
    varbinds = _VARBIND_LISTS.get(key)
    if varbinds is None:
        varbinds = b"".join(tlv(SEQUENCE, encode_oid(oid) + _NULL) for oid in oids)
        if len(_VARBIND_LISTS) >= CACHE_LIMIT // 10:
            _VARBIND_LISTS.clear()
        _VARBIND_LISTS[key] = varbinds
    if pdu_type == GET_BULK:
        middle = encode_int(non_repeaters) + encode_int(max_repetitions)
    else:
        middle = b"\x02\x01\x00\x02\x01\x00"
    return tlv(pdu_type, encode_int(request_id) + middle + tlv(SEQUENCE, varbinds))


def encode_v3_discovery(message_id: int, request_id: int) -> bytes:
    """An unauthenticated SNMPv3 GET with an empty engine id (RFC 3414 discovery).

    An agent running SNMPv3 answers it with a Report (usmStatsUnknownEngineIDs) whatever
    community or user a manager holds: proof that the agent is alive on that port.
    """
    global_data = tlv(
        SEQUENCE, encode_int(message_id) + encode_int(65507) + tlv(OCTET_STRING, b"\x04") + encode_int(3)
    )
    usm = tlv(
        SEQUENCE,
        tlv(OCTET_STRING, b"") + encode_int(0) + encode_int(0) + tlv(OCTET_STRING, b"") * 3,
    )
    pdu = tlv(GET, encode_int(request_id) + b"\x02\x01\x00\x02\x01\x00" + tlv(SEQUENCE, b""))
    scoped = tlv(SEQUENCE, tlv(OCTET_STRING, b"") + tlv(OCTET_STRING, b"") + pdu)
    return tlv(SEQUENCE, encode_int(3) + global_data + tlv(OCTET_STRING, usm) + scoped)


# -- decoding -------------------------------------------------------------------------------


def read_header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of body, end of body) of the TLV at ``pos``."""
    if pos + 2 > end:
        raise BerError("message truncated")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise BerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise BerError("message truncated")
    return tag, pos, pos + length


def expect_tag(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    found, start, stop = read_header(data, pos, end)
    if found != tag:
        raise BerError(f"expected tag 0x{tag:02x}, found 0x{found:02x}")
    return start, stop


def read_int(data: bytes, start: int, stop: int) -> int:
    if start == stop:
        raise BerError("empty INTEGER")
    return int.from_bytes(data[start:stop], "big", signed=True)


def decode_oid(body: bytes) -> Oid:
    if not body:
        raise BerError("empty OBJECT IDENTIFIER")
    first = body[0]
    arcs = [first // 40, first % 40] if first < 80 else [2, first - 80]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if body[-1] & 0x80:
        raise BerError("OBJECT IDENTIFIER truncated")
    return tuple(arcs)


def _value(tag: int, body: bytes) -> Any:
    if tag in INTEGER_TAGS:
        if not body:
            raise BerError("empty integer value")
        if tag == INTEGER:
            return int.from_bytes(body, "big", signed=True)
        return int.from_bytes(body, "big", signed=False)
    if tag in (OCTET_STRING, OPAQUE):
        return bytes(body)
    if tag == OBJECT_IDENTIFIER:
        return decode_oid(body)
    if tag == IP_ADDRESS:
        if len(body) != 4:
            raise BerError("IpAddress is not 4 bytes")
        return ".".join(str(b) for b in body)
    return None  # NULL, exceptions, unknown tags: the tag says it all


def decode_response(data: bytes) -> Response:
    """Decode a v1/v2c Response, or the PDU of a v3 message (Report) when it is not encrypted."""
    try:
        return _decode(data)
    except BerError:
        raise
    except (IndexError, ValueError) as exc:
        raise BerError(str(exc)) from None


def _decode(data: bytes) -> Response:
    end = len(data)
    start, stop = expect_tag(data, 0, end, SEQUENCE)
    vstart, vstop = expect_tag(data, start, stop, INTEGER)
    version = read_int(data, vstart, vstop)
    pos = vstop
    message_id = None
    if version == 3:
        gstart, gstop = expect_tag(data, pos, stop, SEQUENCE)
        istart, istop = expect_tag(data, gstart, gstop, INTEGER)
        message_id = read_int(data, istart, istop)
        _, _, pos = read_header(data, gstop, stop)  # msgSecurityParameters
        sstart, sstop = expect_tag(data, pos, stop, SEQUENCE)  # plaintext ScopedPDU
        _, _, pos = read_header(data, sstart, sstop)  # contextEngineID
        _, _, pos = read_header(data, pos, sstop)  # contextName
        stop = sstop
    else:
        _, _, pos = read_header(data, pos, stop)  # community
    return decode_pdu(data, pos, stop, version, message_id)


def decode_pdu(data: bytes, pos: int, stop: int, version: int, message_id: int | None = None) -> Response:
    """The Response/Report PDU at ``pos``."""
    pdu_type, pstart, pstop = read_header(data, pos, stop)
    if pdu_type not in (RESPONSE, REPORT):
        raise BerError(f"not a response PDU (tag 0x{pdu_type:02x})")
    rstart, rstop = expect_tag(data, pstart, pstop, INTEGER)
    request_id = read_int(data, rstart, rstop)
    estart, estop = expect_tag(data, rstop, pstop, INTEGER)
    error_status = read_int(data, estart, estop)
    xstart, xstop = expect_tag(data, estop, pstop, INTEGER)
    error_index = read_int(data, xstart, xstop)
    lstart, lstop = expect_tag(data, xstop, pstop, SEQUENCE)
    return Response(
        version, request_id, pdu_type, error_status, error_index, decode_varbinds(data, lstart, lstop), message_id
    )


def decode_varbinds(data: bytes, pos: int, end: int) -> list[VarBind]:
    """The varbind list; short-form lengths (nearly all) take a fast path."""
    varbinds: list[VarBind] = []
    append = varbinds.append
    decoded = _DECODED
    while pos < end:
        if pos + 4 <= end and data[pos] == SEQUENCE and data[pos + 1] < 0x80 and data[pos + 2] == OBJECT_IDENTIFIER:
            bstop = pos + 2 + data[pos + 1]
            olen = data[pos + 3]
            if olen >= 0x80 or bstop > end:
                bstart, bstop = expect_tag(data, pos, end, SEQUENCE)
                ostart, ostop = expect_tag(data, bstart, bstop, OBJECT_IDENTIFIER)
            else:
                ostart, ostop = pos + 4, pos + 4 + olen
        else:
            bstart, bstop = expect_tag(data, pos, end, SEQUENCE)
            ostart, ostop = expect_tag(data, bstart, bstop, OBJECT_IDENTIFIER)
        raw = data[ostart:ostop]
        oid = decoded.get(raw)
        if oid is None:
            oid = decode_oid(raw)
            if len(decoded) >= CACHE_LIMIT:
                decoded.clear()
            decoded[raw] = oid
        if ostop >= bstop:
            raise BerError("varbind without a value")
        tag = data[ostop]
        length = data[ostop + 1] if ostop + 1 < bstop else 0x80
        if length < 0x80 and ostop + 2 + length <= bstop:
            body = data[ostop + 2 : ostop + 2 + length]
        else:
            tag, tstart, tstop = read_header(data, ostop, bstop)
            body = data[tstart:tstop]
        if tag in _UNSIGNED:
            if not body:
                raise BerError("empty integer value")
            value: Any = int.from_bytes(body, "big")
        else:
            value = _value(tag, body)
        append(VarBind(oid, tag, value))
        pos = bstop
    return varbinds


_UNSIGNED = frozenset({COUNTER32, GAUGE32, TIMETICKS, COUNTER64})


def peek_key(data: bytes) -> int:
    """What a reply is matched by: its request-id (v1/v2c) or msgID (v3). Raises BerError."""
    try:
        end = len(data)
        start, stop = expect_tag(data, 0, end, SEQUENCE)
        vstart, vstop = expect_tag(data, start, stop, INTEGER)
        if read_int(data, vstart, vstop) == 3:
            gstart, gstop = expect_tag(data, vstop, stop, SEQUENCE)
            istart, istop = expect_tag(data, gstart, gstop, INTEGER)
            return read_int(data, istart, istop)
        _, _, pos = read_header(data, vstop, stop)  # community
        _, pstart, pstop = read_header(data, pos, stop)
        rstart, rstop = expect_tag(data, pstart, pstop, INTEGER)
        return read_int(data, rstart, rstop)
    except (IndexError, ValueError) as exc:
        raise BerError(str(exc)) from None


def parse_oid(text: str) -> Oid:
    """``"1.3.6.1.2.1.1.3.0"`` (a leading dot allowed) → a tuple of ints."""
    text = text.strip().lstrip(".")
    try:
        arcs = tuple(int(part) for part in text.split("."))
    except ValueError:
        raise ValueError(f"{text!r} is not a numeric OID (like 1.3.6.1.2.1.1.3.0)") from None
    if len(arcs) < 2 or arcs[0] > 2 or any(a < 0 for a in arcs):
        raise ValueError(f"{text!r} is not a valid numeric OID")
    return arcs


def format_oid(oid: Oid) -> str:
    return ".".join(map(str, oid))
