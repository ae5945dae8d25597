"""A ping round's targets: what each is asked (``PingRequest``), its address resolved (names
once per round, concurrently and off the event loop, cached for ``RESOLVE_TTL``), and what its
echoes gave (``PingStats``: loss, RTTs, jitter, the error that cost echoes).
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

RESOLVE_TIMEOUT = 5.0
RESOLVE_TTL = 300.0
YIELD_EVERY = 2048  # long loops over targets give the event loop a turn this often


@dataclass(slots=True)
class PingRequest:
    """One target of a round: ``count`` echoes of ``size`` payload bytes, each awaited ``timeout`` s."""

    address: str
    count: int = 3
    timeout: float = 2.0
    size: int = 56


@dataclass(slots=True)
class PingStats:
    """What one target's echoes gave. RTTs are seconds, in sequence order."""

    address: str
    ip: str | None = None
    sent: int = 0
    received: int = 0
    rtts: list[float] = field(default_factory=list)
    error: str | None = None  # why no echo was sent, or why echoes failed (ICMP error, send error)
    started: float | None = None  # epoch seconds of the first echo sent

    @property
    def ok(self) -> bool:
        return self.received > 0

    @property
    def loss_percent(self) -> float | None:
        return None if self.sent == 0 else 100.0 * (self.sent - self.received) / self.sent

    @property
    def rtt_min(self) -> float | None:
        return min(self.rtts) if self.rtts else None

    @property
    def rtt_avg(self) -> float | None:
        return statistics.fmean(self.rtts) if self.rtts else None

    @property
    def rtt_max(self) -> float | None:
        return max(self.rtts) if self.rtts else None

    @property
    def jitter(self) -> float | None:
        """Mean absolute difference of consecutive RTTs (None with fewer than two replies)."""
        if len(self.rtts) < 2:
            return None
        return statistics.fmean(abs(b - a) for a, b in zip(self.rtts, self.rtts[1:], strict=False))

    def summary(self) -> str:
        """``100% loss (3 sent)``, ``33% loss (3 sent), rtt 0.05/0.07/0.09 ms`` and so on."""
        if self.sent == 0:
            return self.error or "no echo sent"
        text = f"{self.loss_percent:.0f}% loss ({self.sent} sent)"
        if self.rtts:
            text += f", rtt {self.rtt_min * 1e3:.2f}/{self.rtt_avg * 1e3:.2f}/{self.rtt_max * 1e3:.2f} ms"
        if self.error and self.received < self.sent:
            text += f": {self.error}"
        return text


Resolved = tuple[int, tuple, str]  # family, sockaddr, ip text
_name_cache: dict[str, tuple[float, Resolved]] = {}


def literal_address(address: str) -> Resolved | None:
    """The family and socket address of an IP literal, None for a host name."""
    try:
        socket.inet_pton(socket.AF_INET, address)
        return socket.AF_INET, (address, 0), address
    except OSError:
        pass
    if ":" in address and "%" not in address:
        try:
            socket.inet_pton(socket.AF_INET6, address)
            return socket.AF_INET6, (address, 0, 0, 0), address
        except OSError:
            pass
    return None


async def resolve_many(addresses: Iterable[str]) -> dict[str, Resolved | str]:
    """Each distinct address resolved once (names concurrently, off the loop); str = the error."""
    results: dict[str, Resolved | str] = {}
    names: list[str] = []
    now = time.monotonic()
    for number, address in enumerate(set(addresses)):
        if number % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        literal = literal_address(address)
        if literal is not None:
            results[address] = literal
            continue
        cached = _name_cache.get(address)
        if cached is not None and cached[0] > now:
            results[address] = cached[1]
        else:
            names.append(address)
    if names:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(32)

        async def one(name: str) -> None:
            async with gate:
                results[name] = await _resolve_name(loop, name)

        await asyncio.gather(*(one(name) for name in names))
    return results


async def _resolve_name(loop: asyncio.AbstractEventLoop, name: str) -> Resolved | str:
    if not name:
        return "no address"
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(name, None, type=socket.SOCK_DGRAM), RESOLVE_TIMEOUT)
    except TimeoutError:
        return f"cannot resolve {name!r}: no answer within {RESOLVE_TIMEOUT:g} s"
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return f"cannot resolve {name!r}: {reason}"
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            resolved: Resolved = (family, sockaddr, str(sockaddr[0]))
            _name_cache[name] = (time.monotonic() + RESOLVE_TTL, resolved)
            return resolved
    return f"cannot resolve {name!r}: no IPv4 or IPv6 address"
