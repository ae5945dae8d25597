"""One hostile web server must not take the jump host's memory or the round's time.

Each server answers a real probe on loopback the way an attacker or a broken device would:
a chunk size of 7fffffffffffffff followed by an endless stream, endless header lines, one
header line that never ends, a Content-Length of 10^18, an answer trickled a byte at a time.
The probe ends within its timeout with an error that says which bound was hit, the healthy
site in the same round still gets its sample, and the test process's peak memory stays within
a stated bound (the probe keeps at most 2 MiB of body; see docs/bounds.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bounds_support import Handler, HostileServer, peak_rss_growth, read_request, trickle_bytes

from collectors.base import Target
from collectors.http import HttpCollector
from inventory.config import Inventory

PROBE_TIMEOUT = 2.0
# Five hostile answers at once, each allowed 2 MiB of body plus 64 KiB of headers and a 16 KiB
# stream buffer: ~11 MiB kept, doubled for the join and the allocator. Without the bounds the
# chunk bomb alone reached gigabytes.
MEMORY_BOUND_MIB = 40
BLOCK = b"x" * 65536


async def stream_forever(writer: asyncio.StreamWriter, block: bytes = BLOCK) -> None:
    while True:
        writer.write(block)
        await writer.drain()


async def chunk_bomb(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n")
    await stream_forever(writer)


async def header_flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    number = 0
    while True:  # ten million distinct header lines, if the client kept reading
        writer.write(b"".join(b"X-Filler-%d: %d\r\n" % (number + i, i) for i in range(2000)))
        number += 2000
        await writer.drain()


async def endless_header_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nX-Long: ")
    await stream_forever(writer)


async def huge_content_length(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\n")
    await stream_forever(writer)


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await trickle_bytes(writer, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>needle</html>" * 100, 0.2)


async def healthy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    body = b"<html>needle</html>"
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()


HOSTILE: dict[str, tuple[Handler, Callable[[str], bool]]] = {
    "chunk-bomb": (chunk_bomb, lambda e: e == "keyword 'needle' not found in the first 2 MiB of the page"),
    "header-flood": (header_flood, lambda e: e == "answer refused: more than 100 header lines"),
    "endless-line": (endless_header_line, lambda e: e == "answer refused: a header line longer than 8 KiB"),
    "content-length": (huge_content_length, lambda e: e == "keyword 'needle' not found in the first 2 MiB of the page"),
    "trickle": (trickle, lambda e: e == f"timeout after {PROBE_TIMEOUT:g} s"),
}


@contextlib.contextmanager
def servers(handlers: dict[str, Handler]) -> Iterator[dict[str, int]]:
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(HostileServer(handler)).port for name, handler in handlers.items()}


def http_targets(make_inventory: Callable[[dict[str, Any]], Inventory], ports: dict[str, int]) -> list[Target]:
    inventory = make_inventory(
        {
            "devices": [
                {
                    "id": name,
                    "kind": "website",
                    "address": "127.0.0.1",
                    "probes": {
                        "http": {"url": f"http://127.0.0.1:{port}/", "keyword": "needle", "timeout": PROBE_TIMEOUT}
                    },
                }
                for name, port in ports.items()
            ]
        }
    )
    return [Target(device, probe) for device in inventory.devices.values() for probe in device.probes.values()]


async def test_hostile_sites_end_within_the_timeout_in_bounded_memory_and_the_healthy_one_is_up(make_inventory) -> None:
    handlers: dict[str, Handler] = {name: handler for name, (handler, _) in HOSTILE.items()}
    handlers["healthy"] = healthy
    with servers(handlers) as ports:
        targets = http_targets(make_inventory, ports)
        with peak_rss_growth() as growth:
            started = time.monotonic()
            samples = await HttpCollector().collect(targets)
            elapsed = time.monotonic() - started
    by_device = {s.device: s for s in samples}
    assert set(by_device) == set(handlers), "one sample per target, hostile or not"
    assert by_device["healthy"].ok, by_device["healthy"].error
    for name, (_, expected) in HOSTILE.items():
        sample = by_device[name]
        assert not sample.ok and sample.error is not None and expected(sample.error), f"{name}: {sample.error}"
    assert elapsed < PROBE_TIMEOUT + 1.0, f"the round took {elapsed:.1f} s"
    print(f"peak RSS growth {growth.mib:.1f} MiB")
    assert growth.mib < MEMORY_BOUND_MIB, f"peak RSS rose {growth.mib:.0f} MiB"


@pytest.mark.parametrize("name", ["chunk-bomb", "header-flood", "content-length"])
async def test_a_flood_is_cut_as_soon_as_a_bound_is_hit_not_at_the_timeout(make_inventory, name: str) -> None:
    handler, expected = HOSTILE[name]
    with servers({name: handler}) as ports:
        started = time.monotonic()
        [sample] = await HttpCollector().collect(http_targets(make_inventory, ports))
        elapsed = time.monotonic() - started
    assert sample.error is not None and expected(sample.error)
    assert elapsed < PROBE_TIMEOUT / 2, f"{name} held the probe {elapsed:.1f} s"
