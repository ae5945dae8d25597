"""The responder's side of the BER codec: a v1/v2c request decoded, a Response (and any value)
encoded. The trap receiver acknowledges an InformRequest with it; the demo's and the
benchmarks' in-process SNMP agents answer with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collectors._snmp import ber


def encode_value(tag: int, value: Any) -> bytes:
    if tag in ber.INTEGER_TAGS:
        if tag == ber.INTEGER:
            return ber.encode_int(int(value))
        body = int(value).to_bytes(max(1, (int(value).bit_length() + 8) // 8), "big")
        return ber.tlv(tag, body)
    if tag in (ber.OCTET_STRING, ber.OPAQUE):
        return ber.tlv(tag, value if isinstance(value, bytes) else str(value).encode())
    if tag == ber.OBJECT_IDENTIFIER:
        return ber.encode_oid(value)
    if tag == ber.IP_ADDRESS:
        return ber.tlv(tag, bytes(int(p) for p in str(value).split(".")))
    return bytes((tag, 0))


def encode_response(
    version: int, community: bytes, request_id: int, varbinds: list[ber.VarBind], error_status: int = 0, error_index: int = 0
) -> bytes:
    body = b"".join(ber.tlv(ber.SEQUENCE, ber.encode_oid(vb.oid) + encode_value(vb.tag, vb.value)) for vb in varbinds)
    pdu = ber.tlv(
        ber.RESPONSE,
        ber.encode_int(request_id) + ber.encode_int(error_status) + ber.encode_int(error_index) + ber.tlv(ber.SEQUENCE, body),
    )
    return ber.tlv(ber.SEQUENCE, ber.encode_int(version) + ber.tlv(ber.OCTET_STRING, community) + pdu)


@dataclass(frozen=True, slots=True)
class Request:
    version: int
    community: bytes
    pdu_type: int
    request_id: int
    non_repeaters: int
    max_repetitions: int
    oids: list[ber.Oid]


def decode_request(data: bytes) -> Request:
    """Decode a v1/v2c request (for in-process responders)."""
    try:
        end = len(data)
        start, stop = ber.expect_tag(data, 0, end, ber.SEQUENCE)
        vstart, vstop = ber.expect_tag(data, start, stop, ber.INTEGER)
        version = ber.read_int(data, vstart, vstop)
        cstart, cstop = ber.expect_tag(data, vstop, stop, ber.OCTET_STRING)
        pdu_type, pstart, pstop = ber.read_header(data, cstop, stop)
        rstart, rstop = ber.expect_tag(data, pstart, pstop, ber.INTEGER)
        astart, astop = ber.expect_tag(data, rstop, pstop, ber.INTEGER)
        bstart, bstop = ber.expect_tag(data, astop, pstop, ber.INTEGER)
        lstart, lstop = ber.expect_tag(data, bstop, pstop, ber.SEQUENCE)
        oids = []
        pos = lstart
        while pos < lstop:
            vbstart, vbstop = ber.expect_tag(data, pos, lstop, ber.SEQUENCE)
            ostart, ostop = ber.expect_tag(data, vbstart, vbstop, ber.OBJECT_IDENTIFIER)
            oids.append(ber.decode_oid(data[ostart:ostop]))
            pos = vbstop
        return Request(
            version,
            bytes(data[cstart:cstop]),
            pdu_type,
            ber.read_int(data, rstart, rstop),
            ber.read_int(data, astart, astop),
            ber.read_int(data, bstart, bstop),
            oids,
        )
    except ber.BerError:
        raise
    except (IndexError, ValueError) as exc:
        raise ber.BerError(str(exc)) from None
