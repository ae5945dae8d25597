"""ICMP sockets shared by the rounds in flight, read by the event loop.

Raw sockets see every ICMP message of the host, so one raw socket per (event loop, address
family) is shared by all concurrent rounds; each round sends under its own identifier(s), one
*lane* per identifier, and the endpoint hands every echo reply and ICMP error to the lane
(hence the round) whose identifier it carries. An unprivileged (SOCK_DGRAM) socket has one
kernel-chosen identifier, so each round opens a private endpoint. An endpoint is closed when
its last lane is released.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from typing import Protocol

from collectors._icmp_socket import (
    ICMP6_ECHO_REPLY,
    ICMP_ECHO_REPLY,
    IDENT_SEQ,
    EchoTemplate,
    IcmpSocket,
    ancillary_time_ns,
    make_payload,
    open_icmp_socket,
    parse_message,
)

SEQ_SPACE = 65536
ANC_SIZE = socket.CMSG_SPACE(16)


class EchoRound(Protocol):
    """The round a lane belongs to: told of each echo reply and ICMP error for its echoes."""

    def on_reply(self, lane: Lane, seq: int, stamp: int, data: bytes, payload_at: int) -> None: ...

    def on_error(self, lane: Lane, seq: int, reason: str) -> None: ...


class Lane:
    """Up to 65,536 echoes of one round under one identifier on one endpoint."""

    __slots__ = ("round", "endpoint", "ident", "template", "cookie", "echoes")

    def __init__(self, round_: EchoRound, endpoint: Endpoint, ident: int, size: int) -> None:
        self.round = round_
        self.endpoint = endpoint
        self.ident = ident
        self.cookie = os.urandom(8)[: min(8, size)]
        self.template = EchoTemplate(endpoint.icmp.family, endpoint.icmp.raw, ident, make_payload(size, self.cookie))
        self.echoes: list[int] = []  # global echo index of each sequence number


class Endpoint:
    """A socket read by the event loop, dispatching what it receives to the lanes using it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, icmp: IcmpSocket, key: tuple | None) -> None:
        self.loop = loop
        self.icmp = icmp
        self.key = key  # registry key of a shared raw endpoint, None for a private one
        self.lanes: dict[int, Lane] = {}
        self.bufsize = 2048
        self.reply_type = ICMP_ECHO_REPLY if icmp.family == socket.AF_INET else ICMP6_ECHO_REPLY
        self.ip_header = icmp.raw and icmp.family == socket.AF_INET
        self.rcvbuf = icmp.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        loop.add_reader(icmp.sock.fileno(), self._readable)

    def new_lane(self, round_: EchoRound, size: int) -> Lane:
        if self.icmp.raw:
            ident = random.randrange(1, SEQ_SPACE)
            while ident in self.lanes:
                ident = random.randrange(1, SEQ_SPACE)
        else:
            ident = 0  # the kernel sets its own identifier; replies come only to this socket
        lane = Lane(round_, self, ident, size)
        self.lanes[ident] = lane
        self.bufsize = max(self.bufsize, size + 128)
        return lane

    def release(self, lane: Lane) -> None:
        if self.lanes.get(lane.ident) is lane:
            del self.lanes[lane.ident]
        if not self.lanes:
            self.close()

    def close(self) -> None:
        if self.key is not None and SHARED_ENDPOINTS.get(self.key) is self:
            del SHARED_ENDPOINTS[self.key]
        if self.icmp.sock.fileno() >= 0:
            self.loop.remove_reader(self.icmp.sock.fileno())
            self.icmp.close()

    def _readable(self) -> None:
        recvmsg = self.icmp.sock.recvmsg
        bufsize, lanes, reply_type = self.bufsize, self.lanes, self.reply_type
        ip_header, raw = self.ip_header, self.icmp.raw
        errors = 0
        while True:
            try:
                data, ancdata, _, _ = recvmsg(bufsize, ANC_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                errors += 1  # a queued socket error is consumed by the failed call: read on
                if errors > 64:
                    return
                continue
            stamp = ancillary_time_ns(ancdata) if ancdata else None
            if stamp is None:
                stamp = time.time_ns()
            offset = ((data[0] & 0x0F) << 2) if ip_header and data else 0
            if len(data) >= offset + 8 and data[offset] == reply_type:
                ident, seq = IDENT_SEQ.unpack_from(data, offset + 4)
                lane = lanes.get(ident if raw else 0)
                if lane is not None:
                    lane.round.on_reply(lane, seq, stamp, data, offset + 8)
                continue
            message = parse_message(self.icmp.family, raw, data)
            if message is not None and message.error is not None:
                lane = lanes.get(message.ident if raw else 0)
                if lane is not None:
                    lane.round.on_error(lane, message.seq, message.error)


SHARED_ENDPOINTS: dict[tuple[asyncio.AbstractEventLoop, int], Endpoint] = {}


def endpoint_for(loop: asyncio.AbstractEventLoop, family: int) -> Endpoint:
    """The shared raw endpoint of this loop and family, or a new private unprivileged one."""
    shared = SHARED_ENDPOINTS.get((loop, family))
    if shared is not None:
        return shared
    icmp = open_icmp_socket(family)
    if not icmp.raw:
        return Endpoint(loop, icmp, None)
    endpoint = Endpoint(loop, icmp, (loop, family))
    SHARED_ENDPOINTS[(loop, family)] = endpoint
    return endpoint
