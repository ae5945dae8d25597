"""Run one ICMP round in this process and print the outcome as JSON (used inside test namespaces).

Usage: ``python netns_probe.py SPEC_JSON`` where SPEC is
``{"mode": "plan", "requests": [[address, count, timeout, size], ...], "interval_ms": 1, "period_ms": 100}``
(engine figures) or ``{"mode": "collector", "targets": [[address, {options}], ...]}`` (Samples);
optional ``"rcvbuf"``: the receive buffer size to ask for.
The output also says which socket kind was usable and what icmp_permission_problem() said.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from typing import Any

from cli.commands.probe import build_target
from collectors import _icmp_socket
from collectors._icmp_socket import IcmpUnavailable, open_icmp_socket
from collectors.icmp import IcmpCollector, PingRequest, icmp_permission_problem, ping_plan


def receive_buffer() -> int | None:
    try:
        icmp = open_icmp_socket()
    except IcmpUnavailable:
        return None
    size = icmp.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    icmp.close()
    return int(size)


def socket_kind() -> str:
    try:
        icmp = open_icmp_socket()
    except IcmpUnavailable:
        return "none"
    icmp.close()
    return "raw" if icmp.raw else "dgram"


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    if "rcvbuf" in spec:  # the receive buffer asked for, as a host's net.core.rmem_max would cap it
        _icmp_socket.RCVBUF_BYTES = int(spec["rcvbuf"])
    out: dict[str, Any] = {"socket": socket_kind(), "problem": icmp_permission_problem(), "rcvbuf": receive_buffer()}
    if spec["mode"] == "plan":
        requests = [PingRequest(a, c, t, s) for a, c, t, s in spec["requests"]]
        results = await ping_plan(requests, interval_ms=spec.get("interval_ms", 1.0), period_ms=spec.get("period_ms", 100.0))
        out["results"] = [
            {
                "address": r.address,
                "ip": r.ip,
                "sent": r.sent,
                "received": r.received,
                "rtts": r.rtts,
                "error": r.error,
                "loss_percent": r.loss_percent,
                "jitter": r.jitter,
                "summary": r.summary(),
            }
            for r in results
        ]
    else:
        targets = [build_target("icmp", address, options) for address, options in spec["targets"]]
        collector = IcmpCollector()
        samples = await collector.collect(targets)
        out["samples"] = [s.to_dict() for s in samples]
    out["seconds"] = time.monotonic() - started
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
