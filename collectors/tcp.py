"""TCP connect probe: connect time, and *refused* told apart from *timeout*.

Sample config::

    probes:
      tcp:
        port: 22
        timeout: 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from collectors.base import CONNECT, REFUSED, RTT, PerTargetCollector, Target, describe_exception
from collectors.registry import register
from core.model import Sample


class TcpOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    port: int = Field(ge=1, le=65535)
    timeout: float = Field(3.0, gt=0)
    address: str | None = None


@register
class TcpCollector(PerTargetCollector):
    name = "tcp"
    metrics = (REFUSED, CONNECT, RTT)
    Options = TcpOptions
    sample_config = "tcp:\n  port: 22\n  timeout: 3\n"

    async def probe(self, target: Target) -> Sample:
        options: TcpOptions = target.options
        started = time.time()
        clock = time.perf_counter()
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(target.address, options.port), options.timeout)
        except TimeoutError:
            return target.failure(f"timeout after {options.timeout:g} s (port {options.port})", ts=started)
        except ConnectionRefusedError:
            return target.failure(f"connection refused (port {options.port})", ts=started, metrics={"refused": 1.0})
        except OSError as exc:
            return target.failure(f"{describe_exception(exc)} (port {options.port})", ts=started)
        connect_time = time.perf_counter() - clock
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        return target.sample(True, ts=started, metrics={"connect_seconds": connect_time, "rtt_seconds": connect_time})

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, help="TCP port to connect to (or -o port=N)")
        parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        options: dict[str, Any] = {"timeout": args.timeout}
        if args.port is not None:  # else -o port=N, or the options model says the port is missing
            options["port"] = args.port
        return options
