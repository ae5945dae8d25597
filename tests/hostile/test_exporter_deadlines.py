"""A time-series backend (or a proxy in front of it) that trickles or floods its answer costs
the InfluxDB exporter's sender one write timeout and bounded memory, then a retry.

Before the total deadline, influxdb-client's per-read timeout let an endpoint that answers a
byte every 0.3 s hold the sender (and so every spooled point behind it) for as long as it
kept trickling, and an endless error body was read whole. The servers here are real sockets
on loopback; the writer is the exporter's own.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from bounds_support import Handler, HostileServer, peak_rss_growth, read_request, trickle_bytes

from exporters.config import InfluxDBSettings
from exporters.influx_write import InfluxWriter, WriteFailed, WriteRejected

WRITE_TIMEOUT = 1.5
MARGIN = 1.0
MEMORY_BOUND_MIB = 20
PAYLOAD = b"yunwei,device=a up=1i 1700000000000\n"


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await trickle_bytes(writer, b"HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 2.7\r\n\r\n" * 20, 0.3)


async def endless_error_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{\"message\":\"")
    while True:
        writer.write(b"e" * 65536)
        await writer.drain()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await asyncio.sleep(3600)


def writer_for(port: int) -> InfluxWriter:
    return InfluxWriter(InfluxDBSettings(url=f"http://127.0.0.1:{port}", org="o", bucket="b", token="t", timeout=WRITE_TIMEOUT))


@pytest.mark.parametrize("handler", [trickle, silent], ids=["trickle", "silent"])
def test_a_trickling_or_silent_backend_costs_one_write_timeout(handler: Handler) -> None:
    with HostileServer(handler) as server:
        started = time.monotonic()
        with pytest.raises(WriteFailed) as failure:
            writer_for(server.port).write(PAYLOAD, "identity")
        elapsed = time.monotonic() - started
    assert str(failure.value) == f"no answer within {WRITE_TIMEOUT:g} s (the deadline of the whole request)"
    assert elapsed < WRITE_TIMEOUT + MARGIN, f"the write took {elapsed:.1f} s"


def test_an_endless_error_body_is_read_to_64_kib_then_the_batch_is_refused_in_bounded_memory() -> None:
    with HostileServer(endless_error_body) as server, peak_rss_growth() as growth:
        started = time.monotonic()
        with pytest.raises(WriteRejected) as failure:
            writer_for(server.port).write(PAYLOAD, "identity")
        elapsed = time.monotonic() - started
    assert str(failure.value).startswith('HTTP 400: {"message":"eeee')
    assert len(str(failure.value)) < 400  # one line for the log
    assert elapsed < WRITE_TIMEOUT + MARGIN
    assert growth.mib < MEMORY_BOUND_MIB, f"peak RSS rose {growth.mib:.0f} MiB"
