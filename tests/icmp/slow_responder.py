"""A scriptable ICMP echo responder: a "device" with chosen delays, losses and duplicates.

Run inside a network namespace where the kernel's own echo replies are off
(``net.ipv4.icmp_echo_ignore_all=1``). Usage: ``python slow_responder.py PLAN_JSON`` with PLAN
``{"127.0.0.10": [50, 50, 50], "127.0.0.11": [10, null, 10], "127.0.0.12": ["dup", "dup"]}``:
for each destination, the n-th echo request seen is answered after that many milliseconds,
``null`` drops it, ``"dup"`` answers at once and twice; requests beyond the list and other
destinations get no answer. Prints ``ready`` when listening.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
from collections import defaultdict


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def reply_for(request: bytes) -> bytes:
    """The echo reply to an ICMP echo request (same identifier, sequence and payload)."""
    body = bytes([0, 0, 0, 0]) + request[4:]
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


async def main(plan: dict[str, list[object]]) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    seen: dict[str, int] = defaultdict(int)

    def send(reply: bytes, source: str) -> None:
        sock.sendto(reply, (source, 0))

    def readable() -> None:
        while True:
            try:
                data, (source, _) = sock.recvfrom(65535)
            except BlockingIOError:
                return
            header = (data[0] & 0x0F) << 2
            if data[header] != 8:  # only echo requests
                continue
            destination = socket.inet_ntoa(data[16:20])
            steps = plan.get(destination, [])
            index = seen[destination]
            seen[destination] += 1
            if index >= len(steps) or steps[index] is None:
                continue
            reply = reply_for(data[header:])
            if steps[index] == "dup":
                send(reply, source)
                send(reply, source)
            else:
                loop.call_later(float(steps[index]) / 1000.0, send, reply, source)  # type: ignore[arg-type]

    loop.add_reader(sock.fileno(), readable)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
