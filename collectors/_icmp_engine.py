"""The ping engine: one ICMP socket for a whole batch of echoes, driven by the event loop.

A *round* sends ``count`` echoes to each target in passes (pass 1 to every target, then pass 2
...). Sends are paced globally (``interval_ms`` between two echoes, like fping's ``-i``) and
per target (``period_ms`` between two echoes to the same target, like fping's ``-p``). Every
echo of a round has its own (identifier, sequence) pair; replies are matched on it and timed
with the kernel's receive timestamp (SO_TIMESTAMPNS), so a busy event loop does not inflate
RTTs. An echo unanswered ``timeout`` seconds after it was sent is lost; the round ends as soon
as every echo is answered or lost.

The sockets are shared by concurrent rounds (``collectors._icmp_endpoint``), read with
``loop.add_reader`` and written in bounded chunks: the event loop is never blocked for more
than one chunk (``CHUNK`` sends). Targets, their resolving and their results are
``collectors._icmp_targets``.
"""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import Iterable, Sequence

from collectors._icmp_endpoint import SEQ_SPACE, SHARED_ENDPOINTS, Lane, endpoint_for
from collectors._icmp_socket import IcmpUnavailable, open_icmp_socket
from collectors._icmp_targets import YIELD_EVERY, PingRequest, PingStats, Resolved, resolve_many

CHUNK = 256  # most echoes sent in one go before the event loop gets control back (and reads replies)
MAX_CATCH_UP = 0.01  # seconds of pacing debt that may be sent as one burst after a stall
RETRY_DELAY = 0.001
MAX_RETRIES = 200  # a send refused with ENOBUFS/EAGAIN this often in a row counts as failed


# -- one round --------------------------------------------------------------------------------


class _Round:
    """The echoes of one ping_plan call: sending, pacing, matching, deadline."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        stats: list[PingStats],
        interval: float,
        period: float,
    ) -> None:
        self.loop = loop
        self.stats = stats
        self.interval = interval
        self.period = period
        self.future: asyncio.Future[None] = loop.create_future()
        self.lanes: list[Lane] = []
        self.echo_job: list[int] = []
        self.echo_lane: list[Lane] = []
        self.echo_seq: list[int] = []
        self.sockaddr: dict[int, tuple] = {}
        self.timeout_ns: dict[int, int] = {}
        self.timeout: dict[int, float] = {}
        self.pass_starts: list[int] = []  # first echo index of each pass
        self.ready = False  # replies are ignored until the plan is complete
        self.total = 0
        self.sent_ns: list[int] = []
        self.rtt_ns: list[int] = []
        self.state = bytearray()  # per echo: 0 pending, 1 answered (or late), 2 failed
        self.next_echo = 0
        self.next_pass = 1
        self.pass_started = 0.0
        self.next_at = 0.0
        self.outstanding = 0
        self.retries = 0
        self.chunk = CHUNK
        self.deadline = 0.0
        self._handle: asyncio.Handle | asyncio.TimerHandle | None = None
        self._job_error: dict[int, str] = {}

    async def plan(self, jobs: list[tuple[int, PingRequest, Resolved]]) -> None:
        """Order the echoes (pass by pass), give each its lane and sequence number."""
        lanes: dict[tuple[int, int, int], Lane] = {}  # (family, size, lane number) -> lane
        used: dict[tuple[int, int], int] = {}  # echoes per (family, size) so far
        max_count = max((request.count for _, request, _ in jobs), default=0)
        for pass_no in range(max_count):
            self.pass_starts.append(len(self.echo_job))
            for number_in_pass, (index, request, (family, sockaddr, _)) in enumerate(jobs):
                if number_in_pass % YIELD_EVERY == YIELD_EVERY - 1:
                    await asyncio.sleep(0)
                if pass_no >= request.count:
                    continue
                number = used.get((family, request.size), 0)
                used[(family, request.size)] = number + 1
                lane_key = (family, request.size, number // SEQ_SPACE)
                lane = lanes.get(lane_key)
                if lane is None:
                    lane = endpoint_for(self.loop, family).new_lane(self, request.size)
                    lanes[lane_key] = lane
                    self.lanes.append(lane)
                lane.echoes.append(len(self.echo_job))
                self.echo_job.append(index)
                self.echo_lane.append(lane)
                self.echo_seq.append(number % SEQ_SPACE)
                if pass_no == 0:
                    self.sockaddr[index] = sockaddr
                    self.timeout[index] = request.timeout
                    self.timeout_ns[index] = int(request.timeout * 1e9)
        self.pass_starts.append(len(self.echo_job))
        total = self.total = len(self.echo_job)
        self.sent_ns = [0] * total
        self.rtt_ns = [-1] * total
        self.state = bytearray(total)
        # Replies of up to two chunks can wait between two reads (the next chunk's callback is
        # queued before the reader's): keep them within half the receive buffer.
        for lane in self.lanes:
            fitting = lane.endpoint.rcvbuf // 4 // reply_truesize(len(lane.template.payload))
            self.chunk = max(4, min(self.chunk, fitting))
        self.ready = True

    # sending ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self.total == 0:
            self._finish()
            return
        now = self.loop.time()
        self.next_at = now
        self.pass_started = now
        self._pump()

    def _pump(self) -> None:
        self._handle = None
        if self.future.done():
            return
        now = self.loop.time()
        burst = 0
        while self.next_echo < self.total:
            index = self.next_echo
            if index == self.pass_starts[self.next_pass]:
                self.next_at = max(self.next_at, self.pass_started + self.period)
            if self.next_at > now or burst >= self.chunk:
                break
            if index == self.pass_starts[self.next_pass]:
                self.next_pass += 1
                self.pass_started = now
            if not self._send(index, now):
                self._handle = self.loop.call_later(RETRY_DELAY, self._pump)
                return
            self.next_echo += 1
            burst += 1
            self.next_at = max(self.next_at + self.interval, now - MAX_CATCH_UP)
        if self.next_echo < self.total:
            if self.next_at <= now:
                self._handle = self.loop.call_soon(self._pump)
            else:
                self._handle = self.loop.call_at(self.next_at, self._pump)
            return
        if self.outstanding == 0:
            self._finish()
        else:
            self._handle = self.loop.call_at(self.deadline, self._finish)

    def _send(self, index: int, now: float) -> bool:
        """Send one echo. False: the kernel asked us to retry later (buffer full)."""
        lane = self.echo_lane[index]
        job = self.echo_job[index]
        packet = lane.template.packet(self.echo_seq[index])
        stamp = time.time_ns()
        try:
            lane.endpoint.icmp.sock.sendto(packet, self.sockaddr[job])
        except (BlockingIOError, InterruptedError):
            return self._retry_or_fail(index, job, "send buffer full")
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                return self._retry_or_fail(index, job, "send buffer full")
            self._failed(index, job, (exc.strerror or str(exc)).lower())
            return True
        self.retries = 0
        stats = self.stats[job]
        stats.sent += 1
        if stats.started is None:
            stats.started = stamp / 1e9
        self.sent_ns[index] = stamp
        self.outstanding += 1
        self.deadline = max(self.deadline, now + self.timeout[job])
        return True

    def _retry_or_fail(self, index: int, job: int, reason: str) -> bool:
        self.retries += 1
        if self.retries <= MAX_RETRIES:
            return False
        self.retries = 0
        self._failed(index, job, reason)
        return True

    def _failed(self, index: int, job: int, reason: str) -> None:
        stats = self.stats[job]
        stats.sent += 1
        if stats.started is None:
            stats.started = time.time()
        self.state[index] = 2
        self._job_error[job] = reason

    # receiving -------------------------------------------------------------------------------

    def on_reply(self, lane: Lane, seq: int, stamp: int, data: bytes, payload_at: int) -> None:
        if seq >= len(lane.echoes) or not self.ready:
            return
        index = lane.echoes[seq]
        sent = self.sent_ns[index]
        if not sent or self.state[index]:
            return  # not ours (yet), or a duplicate
        if lane.cookie and not data.startswith(lane.cookie, payload_at):
            return  # another process's echo that happens to use our identifier
        self.state[index] = 1
        rtt = stamp - sent
        if rtt <= self.timeout_ns[self.echo_job[index]]:
            self.rtt_ns[index] = max(rtt, 0)
        self._resolved()

    def on_error(self, lane: Lane, seq: int, reason: str) -> None:
        if seq >= len(lane.echoes) or not self.ready:
            return
        index = lane.echoes[seq]
        if not self.sent_ns[index] or self.state[index]:
            return
        self.state[index] = 2
        self._job_error[self.echo_job[index]] = reason
        self._resolved()

    def _resolved(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0 and self.next_echo >= self.total and not self.future.done():
            if self._handle is not None:
                self._handle.cancel()
            self._finish()

    # the end ----------------------------------------------------------------------------------

    def _finish(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if not self.future.done():
            self.future.set_result(None)

    def close(self) -> None:
        """Tally the results and give the identifiers back (also after cancellation)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        for lane in self.lanes:
            lane.endpoint.release(lane)
        stats = self.stats
        for index, rtt in enumerate(self.rtt_ns):
            if rtt >= 0:
                job_stats = stats[self.echo_job[index]]
                job_stats.rtts.append(rtt / 1e9)
                job_stats.received += 1
        for job, reason in self._job_error.items():
            stats[job].error = reason


def reply_truesize(size: int) -> int:
    """What one echo reply of ``size`` payload bytes costs in a socket's receive buffer.

    Measured on Linux 6.x loopback (replies that fit in a default 425,984-byte buffer): about
    830 bytes up to 56-byte payloads, 1,270 up to 500, 2,300 up to 1,472, 8,000 at 4,000.
    """
    return (1 << (size + 28 + 320 - 1).bit_length()) + 320


# -- public API -------------------------------------------------------------------------------


async def ping_plan(requests: Sequence[PingRequest], interval_ms: float = 1.0, period_ms: float = 1000.0) -> list[PingStats]:
    """Ping every request in one round; one PingStats per request, in the same order.

    Never raises for device-side problems: an unresolvable name, a refused send or missing
    ICMP privileges end up in ``PingStats.error`` with ``sent == 0`` or lost echoes.
    """
    stats: list[PingStats] = []
    for number, request in enumerate(requests):
        if number % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        stats.append(PingStats(address=request.address))
    if not requests:
        return stats
    resolved = await resolve_many(request.address for request in requests)
    jobs: list[tuple[int, PingRequest, Resolved]] = []
    for index, request in enumerate(requests):
        if index % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        outcome = resolved[request.address]
        if isinstance(outcome, str):
            stats[index].error = outcome
        else:
            stats[index].ip = outcome[2]
            jobs.append((index, request, outcome))
    loop = asyncio.get_running_loop()
    jobs, unavailable = _usable(loop, jobs)
    for index, reason in unavailable:
        stats[index].error = reason
    round_ = _Round(loop, stats, max(0.0, interval_ms) / 1000.0, max(0.0, period_ms) / 1000.0)
    try:
        try:
            await round_.plan(jobs)
        except OSError as exc:  # the socket could not be opened after all (limits, privileges changed)
            reason = str(exc.strerror) if isinstance(exc, IcmpUnavailable) else f"cannot open an ICMP socket: {exc}"
            for index, _, _ in jobs:
                stats[index].error = reason
            return stats
        round_.start()
        await round_.future
    finally:
        round_.close()
    return stats


def _usable(
    loop: asyncio.AbstractEventLoop, jobs: list[tuple[int, PingRequest, Resolved]]
) -> tuple[list[tuple[int, PingRequest, Resolved]], list[tuple[int, str]]]:
    """Split jobs into those whose address family has an ICMP socket and those without."""
    problems: dict[int, str | None] = {}
    for family in {resolved[0] for _, _, resolved in jobs}:
        if (loop, family) in SHARED_ENDPOINTS:
            problems[family] = None
            continue
        try:
            open_icmp_socket(family).close()
            problems[family] = None
        except IcmpUnavailable as exc:
            problems[family] = str(exc.strerror)
        except OSError as exc:
            problems[family] = f"cannot open an ICMP socket: {(exc.strerror or str(exc)).lower()}"
    usable = [job for job in jobs if problems[job[2][0]] is None]
    failed = [(index, str(problems[resolved[0]])) for index, _, resolved in jobs if problems[resolved[0]] is not None]
    return usable, failed


async def ping_many(
    addresses: Iterable[str],
    count: int = 3,
    timeout: float = 2.0,
    interval_ms: float = 1.0,
    period_ms: float = 1000.0,
    size: int = 56,
) -> dict[str, PingStats]:
    """Ping each distinct address ``count`` times in one round; results keyed by address."""
    requests: list[PingRequest] = []
    for address in dict.fromkeys(addresses):
        if len(requests) % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        requests.append(PingRequest(address, count, timeout, size))
    results = await ping_plan(requests, interval_ms=interval_ms, period_ms=period_ms)
    return {stats.address: stats for stats in results}
