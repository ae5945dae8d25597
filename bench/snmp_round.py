"""Benchmark: one SNMP round over many simulated devices, yunwei vs prometheus-snmp-exporter.

Every device is a loopback address served by net-snmp ``snmpd`` (one process binds at most
~120 addresses, so several are started). The work per device, the same for both tools: the
system group (sysDescr, sysObjectID, sysUpTime, sysName) plus 4 interfaces' counters and
status (ifHCIn/OutOctets, ifIn/OutErrors, ifIn/OutDiscards, ifAdmin/OperStatus,
ifHighSpeed of ifIndex 1-4): 40 values, one GET each.

yunwei: the ``snmp`` collector's ``collect()`` over all devices at once (its first round also
walks ifDescr/ifName/ifAlias to find the interfaces: reported apart as the cold round).
snmp_exporter: a hand-written numeric-OID module (``get:`` of the same 40 OIDs), scraped
over HTTP keep-alive by ``--concurrency`` clients, as Prometheus would.

Prints devices/s, CPU seconds of each tool's process and the ratio. Run as root or not
(loopback only)::

    python bench/snmp_round.py --devices 10000
    python bench/snmp_round.py --devices 2000 --skip-exporter
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors._snmp import ber  # noqa: E402
from collectors.base import Target  # noqa: E402
from collectors.snmp import SnmpCollector, SnmpOptions  # noqa: E402
from inventory.models import ResolvedDevice, ResolvedProbe  # noqa: E402

COMMUNITY = "bench"
V3_USER, V3_AUTH, V3_PRIV = "bench", "bench-auth-key", "bench-priv-key"
SYSTEM = ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0"]
COLUMNS = {  # the interface columns the snmp collector reads in its steady state
    "ifAdminStatus": ("1.3.6.1.2.1.2.2.1.7", "gauge"),
    "ifOperStatus": ("1.3.6.1.2.1.2.2.1.8", "gauge"),
    "ifHighSpeed": ("1.3.6.1.2.1.31.1.1.1.15", "gauge"),
    "ifHCInOctets": ("1.3.6.1.2.1.31.1.1.1.6", "counter"),
    "ifHCOutOctets": ("1.3.6.1.2.1.31.1.1.1.10", "counter"),
    "ifInErrors": ("1.3.6.1.2.1.2.2.1.14", "counter"),
    "ifOutErrors": ("1.3.6.1.2.1.2.2.1.20", "counter"),
    "ifInDiscards": ("1.3.6.1.2.1.2.2.1.13", "counter"),
    "ifOutDiscards": ("1.3.6.1.2.1.2.2.1.19", "counter"),
}
INTERFACES = [1, 2, 3, 4]


def addresses(count: int) -> list[str]:
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(count)]


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process (and its reaped children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(address: str, port: int) -> bool:
    message = ber.encode_request(1, COMMUNITY.encode(), ber.GET, 7, [ber.parse_oid(SYSTEM[2])])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        sock.sendto(message, (address, port))
        try:
            sock.recvfrom(65535)
            return True
        except OSError:
            return False


class Agents:
    """Several snmpd processes, ``per_process`` loopback addresses each, all on one port.

    snmpd keeps only about 2,500 characters of ``agentAddress`` (~120 addresses), hence several.
    """

    def __init__(self, devices: list[str], per_process: int, root: Path) -> None:
        self.devices, self.per_process, self.root = devices, per_process, root
        self.port = free_udp_port()
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        binary = shutil.which("snmpd") or "/usr/sbin/snmpd"
        for number, first in enumerate(range(0, len(self.devices), self.per_process)):
            chunk = self.devices[first : first + self.per_process]
            directory = self.root / f"snmpd-{number}"
            directory.mkdir()
            endpoints = ",".join(f"{a}:{self.port}" for a in chunk)  # snmpd keeps ~2,500 characters of it
            (directory / "snmpd.conf").write_text(
                f"agentAddress {endpoints}\nrocommunity {COMMUNITY}\ndontLogTCPWrappersConnects yes\n"
                f"createUser {V3_USER} SHA {V3_AUTH} AES {V3_PRIV}\nrouser {V3_USER} priv\n"
            )
            self.processes.append(
                subprocess.Popen(
                    [binary, "-f", "-C", "-c", str(directory / "snmpd.conf"), "-Lf", "/dev/null", "-p", str(directory / "pid")],
                    env={**os.environ, "SNMP_PERSISTENT_DIR": str(directory / "persist"), "MIBS": ""},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 60
        for number, first in enumerate(range(0, len(self.devices), self.per_process)):
            probe = self.devices[min(first + self.per_process, len(self.devices)) - 1]  # the last address bound
            while not answers(probe, self.port):
                if self.processes[number].poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"snmpd {number} did not come up on {probe}:{self.port}")
                time.sleep(0.05)

    def cpu(self) -> float:
        return sum(cpu_of(p.pid) for p in self.processes if p.poll() is None)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def targets(devices: list[str], port: int, timeout: float, v3: str | None = None) -> list[Target]:
    endpoint: dict[str, object] = {"community": COMMUNITY}
    if v3:
        endpoint = {"version": "3", "user": V3_USER, "auth_protocol": "SHA", "auth_key": V3_AUTH,
                    "priv_protocol": "AES", "priv_key": V3_PRIV, "v3_engine": v3}
    options = SnmpOptions.model_validate(
        {**endpoint, "port": port, "timeout": timeout, "retries": 1, "interfaces": INTERFACES}
    )
    probe = ResolvedProbe(name="snmp", collector="snmp", interval=60.0, options=options)
    out = []
    for address in devices:
        device = ResolvedDevice(
            id=address, name=address, kind="switch", address=address, unit=None, system=None, group=None,
            parent=None, role=None, online="snmp", tags={}, attrs={}, probes={"snmp": probe},
        )
        out.append(Target(device=device, probe=probe))
    return out


async def yunwei_rounds(
    devices: list[str], agents: Agents, timeout: float, in_flight: int, v3: str | None = None
) -> list[dict[str, float]]:
    collector = SnmpCollector()
    collector.client.udp.max_in_flight = in_flight
    batch = targets(devices, agents.port, timeout, v3)
    results = []
    try:
        labels = (f"v3 {v3} cold", f"v3 {v3} steady") if v3 else ("cold", "steady", "steady")
        for label in labels:
            agents_cpu, cpu, started = agents.cpu(), time.process_time(), time.perf_counter()
            samples = await collector.collect(batch)
            wall = time.perf_counter() - started
            ok = sum(1 for s in samples if s.ok and s.error is None and "if.lo.oper_up" in s.metrics)
            results.append(
                {
                    "label": label,
                    "wall": wall,
                    "cpu": time.process_time() - cpu,
                    "agents_cpu": agents.cpu() - agents_cpu,
                    "ok": ok,
                    "rate": ok / wall,
                }
            )
            failed = [s.error for s in samples if not (s.ok and s.error is None)]
            if failed:
                print(f"  yunwei {label}: {len(failed)} failed, e.g. {failed[0]}", file=sys.stderr)
    finally:
        await collector.close()
    return results


def exporter_config(path: Path, timeout: float) -> None:
    lines = ["yunwei:", "  version: 2", "  auth:", f"    community: {COMMUNITY}", f"  timeout: {timeout:g}s", "  retries: 1", "  get:"]
    lines += [f"  - {oid}" for oid in SYSTEM]
    lines += [f"  - {oid}.{index}" for index in INTERFACES for oid, _ in COLUMNS.values()]
    lines += ["  metrics:"]
    for name, oid in (("sysDescr", SYSTEM[0]), ("sysObjectID", SYSTEM[1]), ("sysName", SYSTEM[3])):
        kind = "OctetString" if name == "sysObjectID" else "DisplayString"
        lines += [f"  - name: {name}", f"    oid: {oid[:-2]}", f"    type: {kind if name != 'sysObjectID' else 'OctetString'}"]
    lines += ["  - name: sysUpTime", f"    oid: {SYSTEM[2][:-2]}", "    type: gauge"]
    for name, (oid, kind) in COLUMNS.items():
        lines += [f"  - name: {name}", f"    oid: {oid}", f"    type: {kind}", "    indexes:", "    - labelname: ifIndex", "      type: gauge"]
    path.write_text("\n".join(lines) + "\n")


async def scrape_all(port: int, devices: list[str], agent_port: int, concurrency: int) -> tuple[int, int, str]:
    """Scrape every device once through the exporter; (good, bad, first problem)."""
    queue = list(reversed(devices))
    good = bad = 0
    problem = ""

    async def client() -> None:
        nonlocal good, bad, problem
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                address = queue.pop()
                writer.write(
                    f"GET /snmp?module=yunwei&target={address}:{agent_port} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
                )
                status = await reader.readline()
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    key, _, value = line.decode().partition(":")
                    headers[key.strip().lower()] = value.strip()
                if headers.get("transfer-encoding") == "chunked":
                    body = b""
                    while size := int((await reader.readline()).strip() or b"0", 16):
                        body += await reader.readexactly(size)
                        await reader.readline()
                    await reader.readline()
                else:
                    body = await reader.readexactly(int(headers.get("content-length", "0")))
                if b" 200 " in status and body.count(b"ifHCInOctets{") == len(INTERFACES) and b"sysUpTime " in body:
                    good += 1
                else:
                    bad += 1
                    problem = problem or f"{status.decode().strip()} {body[:300]!r}"
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return good, bad, problem


def exporter_round(devices: list[str], agents: Agents, root: Path, timeout: float, concurrency: int) -> dict[str, float] | None:
    binary = shutil.which("prometheus-snmp-exporter")
    if not binary:
        print("  prometheus-snmp-exporter not installed: skipped", file=sys.stderr)
        return None
    config = root / "snmp.yml"
    exporter_config(config, timeout)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "exporter.log", "wb"),  # noqa: SIM115 - closed with the process
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"snmp_exporter did not start:\n{(root / 'exporter.log').read_text()[-2000:]}")
            time.sleep(0.05)
        asyncio.run(scrape_all(port, devices[:50], agents.port, 10))  # warm-up
        best: dict[str, float] | None = None
        for _ in range(2):  # best of two passes, as for yunwei's steady rounds
            agents_cpu, exporter_cpu, driver_cpu = agents.cpu(), cpu_of(process.pid), time.process_time()
            started = time.perf_counter()
            good, bad, problem = asyncio.run(scrape_all(port, devices, agents.port, concurrency))
            wall = time.perf_counter() - started
            if bad:
                print(f"  snmp_exporter: {bad} failed, e.g. {problem}", file=sys.stderr)
            result = {
                "label": f"{concurrency} concurrent",
                "wall": wall,
                "cpu": cpu_of(process.pid) - exporter_cpu,
                "driver_cpu": time.process_time() - driver_cpu,
                "agents_cpu": agents.cpu() - agents_cpu,
                "ok": good,
                "rate": good / wall,
            }
            if best is None or result["rate"] > best["rate"]:
                best = result
        return best
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10000)
    parser.add_argument("--per-process", type=int, default=100, help="loopback addresses per snmpd (default 100)")
    parser.add_argument("--timeout", type=float, default=5.0, help="SNMP timeout per try, both tools (default 5 s)")
    parser.add_argument("--concurrency", type=int, default=200, help="concurrent scrapes of snmp_exporter (default 200)")
    parser.add_argument("--in-flight", type=int, default=512, help="yunwei's requests on the wire (default 512)")
    parser.add_argument("--skip-exporter", action="store_true")
    parser.add_argument("--v3-devices", type=int, default=2000, help="also a v3 authPriv round over this many (0: none)")
    parser.add_argument("--pysnmp-devices", type=int, default=200, help="and one through pysnmp over this many (0: none)")
    args = parser.parse_args()

    devices = addresses(args.devices)
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    root = Path(tempfile.mkdtemp(prefix="yunwei-bench-snmp-"))
    agents = Agents(devices, args.per_process, root)
    print(f"starting {len(range(0, len(devices), args.per_process))} snmpd processes for {len(devices)} devices ...", file=sys.stderr)
    began = time.perf_counter()
    try:
        agents.start()
        print(f"agents ready in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        ours = asyncio.run(yunwei_rounds(devices, agents, args.timeout, args.in_flight))
        theirs = None if args.skip_exporter else exporter_round(devices, agents, root, args.timeout, args.concurrency)
        v3 = []
        for engine, count in (("native", args.v3_devices), ("pysnmp", args.pysnmp_devices)):
            if count:
                v3 += asyncio.run(yunwei_rounds(devices[:count], agents, args.timeout, args.in_flight, v3=engine))
    finally:
        agents.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"\nload average before the run: {load_before}; best of two steady rounds/passes per tool")
    print(f"SNMP round: {len(devices)} devices, system group + {len(INTERFACES)} interfaces x {len(COLUMNS)} columns "
          f"(40 values/device), {os.cpu_count()} CPUs\n")
    print(f"{'tool (v3 = authPriv SHA/AES-128)':<34} {'ok':>6} {'wall s':>8} {'devices/s':>10} {'CPU s':>7} {'CPU ms/dev':>10} {'snmpd CPU s':>11}")
    rows = [(f"yunwei snmp ({r['label']})", r) for r in ours]
    if theirs:
        rows.append((f"snmp_exporter ({theirs['label']})", theirs))
    rows += [(f"yunwei snmp ({r['label']})", r) for r in v3]
    for name, r in rows:
        print(
            f"{name:<34} {r['ok']:>6.0f} {r['wall']:>8.2f} {r['rate']:>10.0f} {r['cpu']:>7.2f} "
            f"{1000 * r['cpu'] / max(r['ok'], 1):>10.3f} {r['agents_cpu']:>11.2f}"
        )
    steady = max(ours[1:], key=lambda r: r["rate"])
    if theirs:
        print(f"\n(snmp_exporter's HTTP driver in this process used {theirs['driver_cpu']:.2f} CPU s, not counted above)")
        print(f"ratio yunwei/snmp_exporter, devices/s: steady {steady['rate'] / theirs['rate']:.2f}x, "
              f"cold {ours[0]['rate'] / theirs['rate']:.2f}x; CPU per device: "
              f"{(steady['cpu'] / max(steady['ok'], 1)) / (theirs['cpu'] / max(theirs['ok'], 1)):.2f}x")
    print(f"10,000-device round at the steady rate: {10000 / steady['rate']:.1f} s (target: within 60 s on 2 cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
