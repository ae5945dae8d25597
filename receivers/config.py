"""The ``traps:`` and ``syslog:`` sections of the config.

Both are off until ``listen:`` is set. Communities and v3 keys are secrets: write them as
``${secret:NAME}`` or ``${env:NAME}``. See docs/events.md and config.example.yaml.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from collectors._snmp.ber import parse_oid
from collectors._snmp.options import AUTH_PROTOCOLS, SnmpEndpoint
from inventory.models import Strict


def parse_listen(value: str, default_port: int) -> tuple[str, int]:
    """``HOST:PORT``, ``HOST`` or ``:PORT`` (``[::1]:162`` for IPv6) → (host, port)."""
    text = value.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    port = int(port_text) if port_text else default_port
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is out of range")
    return host or "0.0.0.0", port


class _Listener(Strict):
    listen: str | None = Field(None, description="HOST:PORT to listen on; unset = off")
    rate_per_source: float = Field(200, gt=0, description="messages per second one source may send; the excess is dropped and counted")
    burst: int = Field(400, ge=1, description="messages one source may send at once before the rate applies")
    max_sources: int = Field(10000, ge=1, description="sources remembered for rate limiting (the least recent is forgotten)")
    retention_days: float = Field(90, gt=0, description="stored events are deleted after this")

    def address(self, default_port: int) -> tuple[str, int] | None:
        return parse_listen(self.listen, default_port) if self.listen else None

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_listen(value, 0)
            except ValueError:
                raise ValueError(f"{value!r} is not HOST:PORT (e.g. 0.0.0.0:162)") from None
        return value


class _Meaning(Strict):
    """What a matched trap or line means (the fields of an event)."""

    name: str = Field(description="the event's name, e.g. fanFailure")
    hint: Literal["down", "up"] | None = Field(None, description="the subject went down / came back up")
    subject: str = Field("", description="what the hint is about (default the device itself); may use {1}, {name} …")
    metric: str | None = Field(None, description="sample metric it speaks for (a threshold rule on it makes one fault)")
    value: float | None = None
    level: int | None = Field(None, ge=1, le=4, description="fixed fault level; default: the alerting level rules")
    text: str = Field("", description="what the event says; may use {1}, {2} … (traps) or the regex's named groups (syslog)")
    confirm: bool = Field(True, description="a down hint waits for the device's confirming probe before it opens a fault")
    devices: list[str] = Field(default_factory=list, description="only from these devices (default any)")


class TrapRule(_Meaning):
    """A trap OID (and optional varbind conditions) that means something."""

    oid: str = Field(description="the trap OID (snmpTrapOID; v1: enterprise.0.specific)")
    when: dict[str, str] = Field(
        default_factory=dict, description="varbind OID (prefix) → value or /regex/ the trap must carry"
    )

    @field_validator("oid")
    @classmethod
    def _oid(cls, value: str) -> str:
        parse_oid(value)
        return value.strip().lstrip(".")

    @field_validator("when")
    @classmethod
    def _when(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for oid, wanted in value.items():
            parse_oid(str(oid))
            wanted = str(wanted)
            if len(wanted) > 1 and wanted.startswith("/") and wanted.endswith("/"):
                re.compile(wanted[1:-1])
            out[str(oid).strip().lstrip(".")] = wanted
        return out


class SyslogRule(_Meaning):
    """A regular expression on the message (and optionally the program) that means something."""

    match: str = Field(description="regular expression searched in the message; named groups usable in subject/text")
    program: str | None = Field(None, description="regular expression the program (tag) must match")

    @field_validator("match", "program")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


class V3User(Strict):
    """An SNMPv3 user allowed to send traps (USM, authPriv or authNoPriv)."""

    user: str
    auth_protocol: str | None = Field(None, description=f"one of {', '.join(AUTH_PROTOCOLS)} (default SHA)")
    auth_key: SecretStr
    priv_protocol: str | None = Field(None, description="DES, AES, AES192, AES256, AES192C, AES256C (default AES when priv_key is set)")
    priv_key: SecretStr | None = None
    engine_ids: list[str] = Field(default_factory=list, description="hex engine ids this user's traps may come from (default any)")

    @model_validator(mode="after")
    def _check(self) -> V3User:
        endpoint = SnmpEndpoint.model_validate(
            {
                "version": "3",
                "user": self.user,
                "auth_protocol": self.auth_protocol,
                "auth_key": self.auth_key,
                "priv_protocol": self.priv_protocol,
                "priv_key": self.priv_key,
            }
        )
        if endpoint.priv_protocol == "3DES":
            raise ValueError("3DES is not supported for traps (use AES)")
        self.auth_protocol, self.priv_protocol = endpoint.auth_protocol, endpoint.priv_protocol
        for engine_id in self.engine_ids:
            try:
                bytes.fromhex(engine_id.removeprefix("0x"))
            except ValueError:
                raise ValueError(f"engine id {engine_id!r} is not hex (e.g. 0x80001f8880…)") from None
        return self

    @property
    def allowed_engines(self) -> set[bytes]:
        return {bytes.fromhex(e.removeprefix("0x")) for e in self.engine_ids}


class TrapsConfig(_Listener):
    """The SNMP trap receiver (UDP; v1, v2c, INFORM, v3 USM)."""

    communities: list[SecretStr] = Field(default_factory=list, description="v1/v2c communities accepted (empty: v1/v2c refused)")
    v3_users: list[V3User] = Field(default_factory=list)
    engine_id: str | None = Field(None, description="this receiver's SNMPv3 engine id in hex (for v3 INFORMs; default derived from agent.id)")
    rules: list[TrapRule] = Field(default_factory=list)
    max_datagram: int = Field(8192, ge=484, le=65507, description="larger datagrams are dropped and counted")

    @property
    def enabled(self) -> bool:
        return self.listen is not None

    def check_references(self, inventory: Any) -> list[tuple[list[str | int], str]]:
        return _unknown_devices("rules", self.rules, inventory)


class SyslogConfig(_Listener):
    """The syslog receiver (UDP and TCP on the same port; RFC 3164 and 5424; UTF-8 or GBK)."""

    tcp: bool = Field(True, description="also accept TCP (octet-counted or newline-framed)")
    max_line: int = Field(8192, ge=480, le=65536, description="longer messages are cut to this many bytes")
    max_connections: int = Field(256, ge=1, description="TCP connections at once")
    rules: list[SyslogRule] = Field(default_factory=list)
    store_unmatched: bool = Field(True, description="store lines no rule matched (searchable with yunwei events)")

    @property
    def enabled(self) -> bool:
        return self.listen is not None

    def check_references(self, inventory: Any) -> list[tuple[list[str | int], str]]:
        return _unknown_devices("rules", self.rules, inventory)


def _unknown_devices(section: str, rules: list[Any], inventory: Any) -> list[tuple[list[str | int], str]]:
    problems: list[tuple[list[str | int], str]] = []
    for index, rule in enumerate(rules):
        for device in rule.devices:
            if device not in inventory.devices:
                problems.append(([section, index, "devices"], f"{device!r} is not in the inventory"))
    return problems
