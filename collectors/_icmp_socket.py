"""ICMP sockets and echo packets: opening, privileges, building requests, parsing replies.

Two kinds of socket can send echoes on Linux:

- **raw** (``SOCK_RAW``): needs root or CAP_NET_RAW. We build the whole ICMP message
  (IPv4: with its checksum; IPv6: the kernel fills the checksum) and receive *every* ICMP
  message of the host, so an ``ICMP_FILTER`` keeps only echo replies and errors (not our own
  requests, which loopback would otherwise hand back) and replies are matched by identifier.
- **unprivileged** (``SOCK_DGRAM`` + ``IPPROTO_ICMP``): allowed when the process's group is in
  ``net.ipv4.ping_group_range`` (also governs IPv6). The kernel sets the identifier (the
  socket's "port") and the checksum, and hands the socket only its own replies; ICMP errors
  are not reported (a lost echo is a timeout).
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from dataclasses import dataclass

SOL_RAW = 255
ICMP_FILTER = 1
ICMPV6_FILTER = 1
SO_RCVBUFFORCE = 33
SO_TIMESTAMPNS = 35  # asm-generic and x86 value; when refused we stamp in user space
RCVBUF_BYTES = 16 * 1024 * 1024

ICMP_ECHO_REPLY, ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_TIME_EXCEEDED, ICMP_PARAMETER = 0, 3, 8, 11, 12
ICMP6_DEST_UNREACH, ICMP6_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP6_PARAMETER = 1, 2, 3, 4
ICMP6_ECHO, ICMP6_ECHO_REPLY = 128, 129

_V4_UNREACH = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed",
    9: "network prohibited",
    10: "host prohibited",
    13: "administratively prohibited",
}
_V6_UNREACH = {0: "no route", 1: "administratively prohibited", 3: "address unreachable", 4: "port unreachable"}

HEADER = struct.Struct("!BBHHH")
IDENT_SEQ = struct.Struct("!HH")
TIMESPEC = struct.Struct("@qq")


class IcmpUnavailable(OSError):
    """Neither a raw nor an unprivileged ICMP socket could be opened."""


@dataclass(eq=False)
class IcmpSocket:
    """An open, non-blocking ICMP socket and what kind it is."""

    sock: socket.socket
    family: int
    raw: bool
    kernel_timestamps: bool

    def close(self) -> None:
        self.sock.close()


def open_icmp_socket(family: int = socket.AF_INET) -> IcmpSocket:
    """A configured ICMP socket: raw when allowed, else unprivileged; IcmpUnavailable if neither."""
    proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
    try:
        sock = socket.socket(family, socket.SOCK_RAW, proto)
        raw = True
    except PermissionError:
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM, proto)
            raw = False
        except PermissionError:
            raise IcmpUnavailable(1, permission_text()) from None
    try:
        sock.setblocking(False)
        if raw:
            _install_filter(sock, family)
        _large_receive_buffer(sock)
        kernel_timestamps = _enable_timestamps(sock)
    except BaseException:
        sock.close()
        raise
    return IcmpSocket(sock=sock, family=family, raw=raw, kernel_timestamps=kernel_timestamps)


def _install_filter(sock: socket.socket, family: int) -> None:
    """Let only echo replies and ICMP errors reach a raw socket (best effort)."""
    try:
        if family == socket.AF_INET:
            allowed = (ICMP_ECHO_REPLY, ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMP_PARAMETER)
            blocked = 0xFFFFFFFF & ~sum(1 << t for t in allowed)
            sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("=I", blocked))
        else:
            words = [0xFFFFFFFF] * 8  # a set bit blocks that type
            for kind in (ICMP6_ECHO_REPLY, ICMP6_DEST_UNREACH, ICMP6_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP6_PARAMETER):
                words[kind >> 5] &= ~(1 << (kind & 31)) & 0xFFFFFFFF
            sock.setsockopt(socket.IPPROTO_ICMPV6, ICMPV6_FILTER, struct.pack("=8I", *words))
    except OSError:
        pass  # without the filter we only parse (and drop) more packets


def _large_receive_buffer(sock: socket.socket) -> None:
    """Room for thousands of replies between two reads (FORCE needs CAP_NET_ADMIN)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF_BYTES)
    except OSError:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF_BYTES)  # capped by rmem_max


def _enable_timestamps(sock: socket.socket) -> bool:
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def ancillary_time_ns(ancdata: list[tuple[int, int, bytes]]) -> int | None:
    """The kernel's receive time (epoch ns) from SCM_TIMESTAMPNS, if present."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= TIMESPEC.size:
            seconds, nanos = TIMESPEC.unpack_from(data)
            return seconds * 1_000_000_000 + nanos
    return None


# -- privileges -------------------------------------------------------------------------------


def ping_group_range() -> tuple[int, int] | None:
    try:
        with open("/proc/sys/net/ipv4/ping_group_range") as handle:
            low, high = handle.read().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return None


def permission_text() -> str:
    """Why ICMP cannot be used, with the three ways to allow it."""
    group_range = ping_group_range()
    gid = os.getegid()
    if group_range is None:
        range_text = "net.ipv4.ping_group_range unreadable"
    else:
        range_text = (
            f"net.ipv4.ping_group_range is '{group_range[0]} {group_range[1]}', "
            f"{'which includes' if group_range[0] <= gid <= group_range[1] else 'not including'} gid {gid}"
        )
    return (
        "ICMP needs root or CAP_NET_RAW (setcap cap_net_raw+ep, or AmbientCapabilities=CAP_NET_RAW "
        f"in the systemd unit), or unprivileged ping via net.ipv4.ping_group_range ({range_text})"
    )


def icmp_permission_problem(family: int = socket.AF_INET) -> str | None:
    """None when this process can send ICMP echoes, else a short reason saying how to allow it."""
    try:
        icmp = open_icmp_socket(family)
    except IcmpUnavailable as exc:
        return str(exc.strerror)
    except OSError as exc:
        return f"cannot open an ICMP socket: {exc.strerror or exc}"
    icmp.close()
    return None


# -- packets ----------------------------------------------------------------------------------


def ones_sum(data: bytes) -> int:
    """The 16-bit ones'-complement sum of ``data`` (not yet folded or inverted)."""
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


class EchoTemplate:
    """Builds echo requests of one identifier and payload; only the sequence number varies.

    IPv4 raw sockets need the checksum from us: the sum of the fixed part is computed once and
    each packet only adds its sequence number. The kernel fills it for the other socket kinds.
    """

    __slots__ = ("kind", "ident", "payload", "_base", "_checksum")

    def __init__(self, family: int, raw: bool, ident: int, payload: bytes) -> None:
        self.kind = ICMP_ECHO if family == socket.AF_INET else ICMP6_ECHO
        self.ident = ident
        self.payload = payload
        self._checksum = family == socket.AF_INET and raw
        self._base = (self.kind << 8) + ident + ones_sum(payload)

    def packet(self, seq: int) -> bytes:
        checksum = 0
        if self._checksum:
            total = self._base + seq
            total = (total & 0xFFFF) + (total >> 16)
            total = (total & 0xFFFF) + (total >> 16)
            checksum = ~total & 0xFFFF
        return HEADER.pack(self.kind, 0, checksum, self.ident, seq) + self.payload


def make_payload(size: int, cookie: bytes) -> bytes:
    """``size`` bytes starting with the round's cookie (as much of it as fits), then printable filler."""
    filler = bytes(0x20 + i % 95 for i in range(size))
    return (cookie + filler)[:size]


@dataclass(frozen=True, slots=True)
class Reply:
    """A parsed ICMP message that concerns one of our echoes."""

    ident: int
    seq: int
    error: str | None  # None for an echo reply, else e.g. "host unreachable"
    payload: bytes


def parse_message(family: int, raw: bool, data: bytes) -> Reply | None:
    """An echo reply or an ICMP error quoting one of our echo requests; None for anything else."""
    offset = 0
    if family == socket.AF_INET and raw:
        if len(data) < 20:
            return None
        offset = (data[0] & 0x0F) << 2
    if len(data) < offset + 8:
        return None
    kind, code = data[offset], data[offset + 1]
    reply_type = ICMP_ECHO_REPLY if family == socket.AF_INET else ICMP6_ECHO_REPLY
    if kind == reply_type:
        ident, seq = IDENT_SEQ.unpack_from(data, offset + 4)
        return Reply(ident, seq, None, data[offset + 8 :])
    if family == socket.AF_INET:
        if kind not in (ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMP_PARAMETER):
            return None
        inner = offset + 8
        if len(data) < inner + 20 or data[inner + 9] != socket.IPPROTO_ICMP:
            return None
        quoted = inner + ((data[inner] & 0x0F) << 2)
        request_type = ICMP_ECHO
        text = _error_text_v4(kind, code)
    else:
        if kind not in (ICMP6_DEST_UNREACH, ICMP6_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP6_PARAMETER):
            return None
        inner = offset + 8
        if len(data) < inner + 40 or data[inner + 6] != socket.IPPROTO_ICMPV6:
            return None
        quoted = inner + 40
        request_type = ICMP6_ECHO
        text = _error_text_v6(kind, code)
    if len(data) < quoted + 8 or data[quoted] != request_type:
        return None
    ident, seq = IDENT_SEQ.unpack_from(data, quoted + 4)
    return Reply(ident, seq, text, b"")


def _error_text_v4(kind: int, code: int) -> str:
    if kind == ICMP_DEST_UNREACH:
        return _V4_UNREACH.get(code, f"destination unreachable (code {code})")
    if kind == ICMP_TIME_EXCEEDED:
        return "TTL exceeded in transit" if code == 0 else "fragment reassembly time exceeded"
    return "parameter problem"


def _error_text_v6(kind: int, code: int) -> str:
    if kind == ICMP6_DEST_UNREACH:
        return _V6_UNREACH.get(code, f"destination unreachable (code {code})")
    if kind == ICMP6_TOO_BIG:
        return "packet too big"
    if kind == ICMP6_TIME_EXCEEDED:
        return "hop limit exceeded in transit"
    return "parameter problem"
