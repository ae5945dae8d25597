"""SSH inspection (巡检): log in, run read-only commands, keep the output as evidence, parse health.

Device types (netmiko): ``huawei``, ``hp_comware`` (H3C/HPE), ``cisco_ios``, ``linux``. Each has
default commands and an **allow-list**: only ``display`` (Huawei, H3C) or ``show`` (Cisco)
commands with output filters, and a fixed list of read commands on Linux. Anything else
(``system-view``, ``configure``, ``save``, ``reboot``, ``rm``, ``>`` ...) is refused when the config
is loaded, before any connection is made.

Host keys are verified against a known_hosts file (default ``<data_dir>/known_hosts``; fill it
with ``ssh-keyscan`` and check the fingerprints out of band). An unknown host is refused unless
``trust_on_first_use: true``, which records the key it sees first and verifies it afterwards;
a *changed* key is always refused. Passwords and key passphrases come from ``${env:...}`` or
``${secret:...}`` in the config and are never logged or written to evidence.

The raw output goes to ``<data_dir>/evidence/<YYYY-MM-DD>/<device>-<HHMMSS>.txt`` (agent time
zone) with its SHA-256; figures: ``uptime_seconds``, ``cpu_percent``, ``memory_percent``,
``interfaces_down`` (link down although configured up; ``must_be_up`` names interfaces that
make the result a problem), ``disk_percent`` (Linux). ``info["result"]`` is ``ok`` or
``problem`` (a figure over its limit); a login or command failure is an error sample.

Inspections do not run in the probe rounds: ``schedule`` (``workdays 08:30``, ``weekly mon
09:00`` ...) runs them, and ``yunwei inspect DEVICE|GROUP`` on demand; each one files an
``inspection`` record in the ledger.

Netmiko is synchronous: each session runs in a worker thread, at most ``concurrency`` at once.

Sample config::

    probes:
      ssh:
        device_type: huawei
        username: inspector
        password: ${secret:switch_password}
        schedule: [workdays 08:30]
        cpu_percent_max: 80
        memory_percent_max: 85
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from collectors._ssh import PROFILES, Figures, banner, refuse_reason
from collectors._ssh.banner import fingerprint, host_key_name, learn_host_key
from collectors.base import INTERFACES_DOWN, UPTIME, Collector, Target
from collectors.registry import register
from core.deadline import Deadline
from core.metrics import MetricSpec
from core.model import Sample
from inventory.config import load_config
from inventory.models import AgentSettings
from inventory.paths import DEFAULT_CONFIG
from inventory.schedule import parse_when

log = logging.getLogger("yunwei.ssh")
DeviceType = Literal["huawei", "hp_comware", "cisco_ios", "linux"]
class SshOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_type: DeviceType
    port: int = Field(22, ge=1, le=65535)
    address: str | None = None
    username: str
    password: SecretStr | None = None
    key_file: str | None = None
    key_passphrase: SecretStr | None = None
    commands: list[str] | None = Field(None, description="read-only commands; default: the device type's list")
    known_hosts: str | None = Field(None, description="known_hosts file (default <data_dir>/known_hosts)")
    evidence_dir: str | None = Field(None, description="folder of the evidence files (default <data_dir>/evidence)")
    trust_on_first_use: bool = False
    timeout: float = Field(30.0, gt=0, description="seconds for each command; connecting and logging in get twice this in all")
    schedule: list[str] = Field(default_factory=list, description="e.g. ['workdays 08:30', 'weekly mon 09:00']")
    cpu_percent_max: float = Field(80.0, gt=0, le=100)
    memory_percent_max: float = Field(85.0, gt=0, le=100)
    disk_percent_max: float = Field(90.0, gt=0, le=100)
    must_be_up: list[str] = Field(default_factory=list, description="interfaces whose being down is a problem")

    @field_validator("schedule", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("schedule")
    @classmethod
    def _schedules(cls, value: list[str]) -> list[str]:
        for phrase in value:
            parse_when(phrase)
        return value

    @model_validator(mode="after")
    def _read_only(self) -> SshOptions:
        profile = PROFILES[self.device_type]
        for index, command in enumerate(self.commands or ()):
            reason = refuse_reason(self.device_type, command)
            if reason is not None:
                raise ValueError(
                    f"commands[{index}]: {command!r} refused: {reason}. Inspections are read-only; "
                    f"for {self.device_type} {profile.rule}"
                )
        if self.password is None and self.key_file is None:
            raise ValueError("set password (e.g. ${secret:NAME}) or key_file")
        return self

    def command_list(self) -> tuple[str, ...]:
        return tuple(self.commands) if self.commands else PROFILES[self.device_type].commands


class InspectionError(Exception):
    """An inspection that could not be done; the message is shown as the sample's error."""


@dataclass
class Inspection:
    """What one session produced."""

    outputs: dict[str, str] = field(default_factory=dict)
    host_key: str = ""
    learned_host_key: bool = False


def _under(data_dir: Path, configured: str | None, default: str) -> Path:
    """``configured`` (relative paths are under ``data_dir``) or ``data_dir/default``, made absolute."""
    path = Path(configured).expanduser() if configured else Path(default)
    return (path if path.is_absolute() else data_dir / path).absolute()


def known_hosts_path(options: SshOptions, data_dir: Path) -> Path:
    return _under(data_dir, options.known_hosts, "known_hosts")


def evidence_root(options: SshOptions, data_dir: Path) -> Path:
    """The folder that holds the per-day evidence folders."""
    return _under(data_dir, options.evidence_dir, "evidence")


def run_session(host: str, options: SshOptions, known_hosts: Path) -> Inspection:
    """Log in with netmiko (host key checked), run the commands, return their outputs. Blocking."""
    import paramiko

    result = Inspection()
    # Connecting, the banner, key exchange and login together: a server that trickles or
    # sends an endless banner costs this, not a thread for ever (collectors._ssh.banner).
    login_seconds = 2 * options.timeout
    late = f"timeout: no SSH login within {login_seconds:g} s (port {options.port})"
    with Deadline(login_seconds) as deadline:
        if options.trust_on_first_use:
            try:
                learned = learn_host_key(host, options.port, known_hosts, options.timeout, deadline)
            except banner.BannerError as exc:
                raise InspectionError(f"{exc} (port {options.port})") from None
            except (OSError, EOFError, paramiko.SSHException) as exc:
                raise InspectionError(late if deadline.expired else _network_error(exc, options.port)) from None
            if learned:
                result.learned_host_key = True
                log.warning("trusted the host key of %s on first use: %s (%s)", host_key_name(host, options.port), learned, known_hosts)
        connection = _login(host, options, known_hosts, deadline, late)
    return _run_commands(connection, options, result)


def _login(host: str, options: SshOptions, known_hosts: Path, deadline: Deadline, late: str) -> Any:
    import paramiko
    from netmiko import ConnectHandler
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

    try:
        sock = banner.connect(host, options.port, deadline)
    except banner.BannerError as exc:
        raise InspectionError(f"{exc} (port {options.port})") from None
    except OSError as exc:
        raise InspectionError(late if deadline.expired else _network_error(exc, options.port)) from None
    parameters: dict[str, Any] = {
        "device_type": options.device_type,
        "host": host,
        "port": options.port,
        "username": options.username,
        "password": options.password.get_secret_value() if options.password else None,
        "use_keys": options.key_file is not None,
        "key_file": options.key_file,
        "passphrase": options.key_passphrase.get_secret_value() if options.key_passphrase else None,
        "allow_agent": False,
        "ssh_strict": True,  # paramiko RejectPolicy: an unknown host is refused
        "system_host_keys": False,
        "alt_host_keys": True,
        "alt_key_file": str(known_hosts),
        "conn_timeout": options.timeout,
        "auth_timeout": options.timeout,
        "banner_timeout": options.timeout,
        "timeout": options.timeout,
        "fast_cli": False,
        "sock": sock,
    }
    try:
        connection = ConnectHandler(**parameters)
    except NetmikoAuthenticationException:
        sock.close()
        raise InspectionError(f"login refused for user {options.username!r} (password or key wrong)") from None
    except (NetmikoTimeoutException, paramiko.SSHException, OSError, EOFError) as exc:
        sock.close()
        if deadline.expired:
            raise InspectionError(late) from None
        # netmiko wraps paramiko's and the socket's errors; the original is the context
        original = exc.__context__ if isinstance(exc, NetmikoTimeoutException) and exc.__context__ else exc
        raise InspectionError(_connect_error(original, host, options, known_hosts)) from None
    if deadline.expired:  # the socket was shut down as the login finished
        with contextlib.suppress(Exception):
            connection.disconnect()
        raise InspectionError(late)
    return connection


def _run_commands(connection: Any, options: SshOptions, result: Inspection) -> Inspection:
    import paramiko
    from netmiko.exceptions import ReadTimeout

    try:
        transport = connection.remote_conn.get_transport() if connection.remote_conn else None
        if transport is not None:
            result.host_key = fingerprint(transport.get_remote_server_key())
        for command in options.command_list():
            if refuse_reason(options.device_type, command) is not None:  # checked at load; never send one anyway
                raise InspectionError(f"refused to send {command!r}: not read-only")
            try:
                result.outputs[command] = connection.send_command(command, read_timeout=options.timeout)
            except ReadTimeout:
                raise InspectionError(f"{command!r}: no prompt after {options.timeout:g} s") from None
    except (OSError, EOFError, paramiko.SSHException) as exc:
        raise InspectionError(f"session lost: {exc}") from None
    finally:
        with contextlib.suppress(Exception):  # the device may already be gone
            connection.disconnect()
    return result


def _connect_error(exc: BaseException, host: str, options: SshOptions, known_hosts: Path) -> str:
    """One line saying why the SSH connection was not made."""
    import paramiko

    name = host_key_name(host, options.port)
    if isinstance(exc, paramiko.BadHostKeyException):
        return (
            f"host key of {name} CHANGED: it offers {fingerprint(exc.key)}, {known_hosts} has "
            f"{fingerprint(exc.expected_key)}; refused (check the device, then fix known_hosts)"
        )
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        return (
            f"unknown host key for {name}: refused (add it to {known_hosts} after checking its "
            "fingerprint, or set trust_on_first_use: true)"
        )
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError) and exc.errors:
        exc = next(iter(exc.errors.values()))  # paramiko tried each address; one reason is enough
    if isinstance(exc, OSError | EOFError):
        return _network_error(exc, options.port)
    text = " ".join(str(exc).split())
    return f"SSH failed: {text}" if text else f"SSH failed: {type(exc).__name__}"


def _network_error(exc: BaseException, port: int) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused (port {port})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"timeout (port {port})"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{text} (port {port})"


def probe_data_dir(data_dir: str | None, config: str | None) -> Path:
    """The data dir of ``yunwei probe ssh``: ``--data-dir``, else the config's, else the agent's default.

    The config is ``config`` (``-c``), else ``$YUNWEI_CONFIG``, else ``./config.yaml`` when it
    exists; a config that was named but cannot be loaded is an InputError (exit 2)."""
    if data_dir:
        return Path(data_dir).expanduser().absolute()
    named = config or os.environ.get("YUNWEI_CONFIG")
    if named or Path(DEFAULT_CONFIG).exists():
        return load_config(named or DEFAULT_CONFIG).data_dir.absolute()
    return Path(AgentSettings().data_dir).absolute()


def judge(options: SshOptions, figures: Figures) -> list[str]:
    """The problems an inspection found (empty: result ok)."""
    problems = []
    if figures.cpu_percent is not None and figures.cpu_percent > options.cpu_percent_max:
        problems.append(f"CPU {figures.cpu_percent:.0f}% > {options.cpu_percent_max:.0f}%")
    if figures.memory_percent is not None and figures.memory_percent > options.memory_percent_max:
        problems.append(f"memory {figures.memory_percent:.0f}% > {options.memory_percent_max:.0f}%")
    if figures.disk_percent is not None and figures.disk_percent > options.disk_percent_max:
        problems.append(f"disk {figures.disk_percent:.0f}% > {options.disk_percent_max:.0f}%")
    wanted = {name.lower() for name in options.must_be_up}
    down = [name for name in figures.down_interfaces if name.lower() in wanted]
    if down:
        problems.append("down: " + ", ".join(down))
    return problems


def write_evidence(
    data_dir: Path, timezone: str, device_id: str, device_name: str, host: str, options: SshOptions, at: float, inspection: Inspection
) -> tuple[Path, str]:
    """Write the raw outputs; returns the file (absolute) and its SHA-256. Never contains a secret."""
    moment = datetime.fromtimestamp(at, ZoneInfo(timezone))
    folder = evidence_root(options, data_dir) / moment.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    safe_id = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in device_id)
    path = folder / f"{safe_id}-{moment.strftime('%H%M%S')}.txt"
    suffix = 1
    while path.exists():
        suffix += 1
        path = folder / f"{safe_id}-{moment.strftime('%H%M%S')}-{suffix}.txt"
    lines = [
        "# yunwei inspection (巡检) evidence",
        f"# device: {device_id} ({device_name})",
        f"# address: {host}:{options.port}  type: {options.device_type}  user: {options.username}",
        f"# at: {moment.isoformat(timespec='seconds')}",
        f"# host key: {inspection.host_key}" + (" (trusted on first use)" if inspection.learned_host_key else ""),
        "",
    ]
    for command, output in inspection.outputs.items():
        lines += [f"===== {command} =====", output.rstrip("\n"), ""]
    data = "\n".join(lines).encode("utf-8")
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


@register
class SshCollector(Collector):
    """SSH inspection: read-only commands, evidence file, health figures (scheduled, not in rounds)."""

    name = "ssh"
    metrics = (
        UPTIME,
        MetricSpec("cpu_percent", "percent", help="CPU usage the inspection read"),
        MetricSpec("memory_percent", "percent", help="Memory usage the inspection read"),
        INTERFACES_DOWN,
        MetricSpec("disk_percent", "percent", help="Usage of the fullest file system (linux)"),
        MetricSpec("duration_seconds", "seconds", help="Time the inspection took"),
    )
    Options = SshOptions
    in_rounds: ClassVar[bool] = False
    concurrency: ClassVar[int] = 8
    sample_config = (
        "ssh:\n  device_type: huawei\n  username: inspector\n  password: example\n"
        "  schedule: [workdays 08:30]\n  timeout: 30\n"
    )

    @classmethod
    def check_target(cls, target: Target, inventory: Any) -> list[tuple[str, str]]:
        options: SshOptions = target.options
        if options.schedule and inventory.unit_of(target.device.id) is None:
            return [
                (
                    f"probes.{target.probe.name}.schedule",
                    "a scheduled inspection is filed under a unit: set unit on the device, its group or its system",
                )
            ]
        return []

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--data-dir",
            metavar="DIR",
            help="keep evidence/ and read known_hosts here (default: agent.data_dir of -c/--config, "
            "$YUNWEI_CONFIG or ./config.yaml when one exists, else ./yunwei-data)",
        )
        parser.add_argument("-c", "--config", help="config whose agent.data_dir to use (see --data-dir)")

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        data_dir = probe_data_dir(args.data_dir, args.config)
        return {"evidence_dir": str(data_dir / "evidence"), "known_hosts": str(data_dir / "known_hosts")}

    async def collect(self, targets: Sequence[Target]) -> list[Sample]:
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(target: Target) -> Sample:
            async with semaphore:
                return await self.inspect(target)

        return list(await asyncio.gather(*(one(t) for t in targets)))

    async def inspect(self, target: Target) -> Sample:
        options: SshOptions = target.options
        started = time.time()
        host = target.address
        if not host:
            return target.failure("no address", ts=started)
        known_hosts = known_hosts_path(options, self.context.data_dir)
        clock = time.perf_counter()
        try:
            inspection = await asyncio.to_thread(run_session, host, options, known_hosts)
        except InspectionError as exc:
            return target.failure(str(exc), ts=started)
        except Exception as exc:  # a device-side surprise must not end the round
            return target.failure(f"SSH failed: {type(exc).__name__}: {exc}", ts=started)
        duration = time.perf_counter() - clock
        profile = PROFILES[options.device_type]
        try:
            figures = profile.parse(inspection.outputs)
        except Exception as exc:  # odd output must not lose the evidence
            figures = Figures(notes=[f"output not understood: {type(exc).__name__}: {exc}"])
        path, digest = await asyncio.to_thread(
            write_evidence,
            self.context.data_dir,
            self.context.timezone,
            target.device.id,
            target.device.label,
            host,
            options,
            started,
            inspection,
        )
        problems = judge(options, figures)
        metrics = figures.metrics()
        metrics["duration_seconds"] = duration
        info = {
            "result": "problem" if problems else "ok",
            "evidence": str(path),
            "evidence_sha256": digest,
            "host_key": inspection.host_key,
            "commands": str(len(inspection.outputs)),
        }
        if problems:
            info["problems"] = "; ".join(problems)
        if figures.down_interfaces:
            info["down_interfaces"] = ", ".join(figures.down_interfaces[:20])
        if figures.notes:
            info["notes"] = "; ".join(figures.notes)
        return target.sample(True, ts=started, metrics=metrics, info=info)
