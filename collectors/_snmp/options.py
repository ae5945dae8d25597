"""The SNMP endpoint options every SNMP-based collector shares (``snmp``, ``line``, ``ups``).

Credentials are ``SecretStr``: a repr, a log line or a dumped config shows ``**********``.
Write them as ``${secret:NAME}`` or ``${env:NAME}`` in the config file.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

log = logging.getLogger("yunwei.snmp")

AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "3DES", "AES", "AES192", "AES256", "AES192C", "AES256C")
WEAK = {"MD5", "DES", "3DES"}


class SnmpEndpoint(BaseModel):
    """Where and how to reach one SNMP agent."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(None, description="agent address (default: the device's address)")
    port: int = Field(161, ge=1, le=65535)
    version: Literal["1", "2c", "3"] = "2c"
    community: SecretStr = SecretStr("public")
    timeout: float = Field(2.0, gt=0, le=60, description="seconds per try")
    retries: int = Field(1, ge=0, le=5)
    # SNMPv3 (USM)
    user: str | None = None
    auth_protocol: str | None = Field(None, description=f"one of {', '.join(AUTH_PROTOCOLS)}")
    auth_key: SecretStr | None = None
    priv_protocol: str | None = Field(None, description=f"one of {', '.join(PRIV_PROTOCOLS)}")
    priv_key: SecretStr | None = None
    context: str = ""
    v3_engine: Literal["native", "pysnmp"] = Field(
        "native", description="SNMPv3 through yunwei's own USM codec (fast) or pysnmp (3DES always uses pysnmp)"
    )
    max_repetitions: int = Field(25, ge=1, le=200)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        text = str(value).lower().removeprefix("v")
        return {"2": "2c", "1": "1", "2c": "2c", "3": "3"}.get(text, value)

    @field_validator("auth_protocol", "priv_protocol", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).upper().replace("-", "").replace("_", "")
        return {"SHA1": "SHA", "AES128": "AES"}.get(text, text)

    @field_validator("auth_protocol")
    @classmethod
    def _auth_known(cls, value: str | None) -> str | None:
        if value is not None and value not in AUTH_PROTOCOLS:
            raise ValueError(f"unknown auth protocol {value!r} (known: {', '.join(AUTH_PROTOCOLS)})")
        return value

    @field_validator("priv_protocol")
    @classmethod
    def _priv_known(cls, value: str | None) -> str | None:
        if value is not None and value not in PRIV_PROTOCOLS:
            raise ValueError(f"unknown privacy protocol {value!r} (known: {', '.join(PRIV_PROTOCOLS)})")
        return value

    @model_validator(mode="after")
    def _v3_complete(self) -> SnmpEndpoint:
        if self.version != "3":
            return self
        if not self.user:
            raise ValueError("SNMPv3 needs user")
        if self.auth_key is not None and self.auth_protocol is None:
            self.auth_protocol = "SHA"
        if self.priv_key is not None and self.priv_protocol is None:
            self.priv_protocol = "AES"
        if self.auth_protocol is not None and self.auth_key is None:
            raise ValueError("auth_protocol is set but auth_key is missing")
        if self.priv_protocol is not None and self.priv_key is None:
            raise ValueError("priv_protocol is set but priv_key is missing")
        if self.priv_protocol is not None and self.auth_protocol is None:
            raise ValueError("SNMPv3 privacy (priv_key) needs authentication (auth_key) too")
        for key in (self.auth_key, self.priv_key):
            if key is not None and len(key.get_secret_value()) < 8:
                raise ValueError("SNMPv3 keys must be at least 8 characters (RFC 3414)")
        return self

    @property
    def security_level(self) -> str:
        if self.priv_protocol:
            return "authPriv"
        if self.auth_protocol:
            return "authNoPriv"
        return "noAuthNoPriv"

    @property
    def weak_protocols(self) -> list[str]:
        return [p for p in (self.auth_protocol, self.priv_protocol) if p in WEAK]

    def describe(self) -> str:
        """Version and security level, without secrets (for info and logs)."""
        if self.version == "3":
            protocols = "/".join(p for p in (self.auth_protocol, self.priv_protocol) if p)
            return f"v3 {self.user} {self.security_level}" + (f" {protocols}" if protocols else "")
        return f"v{self.version}"


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """``yunwei probe`` flags for an SNMP endpoint (net-snmp's spellings where they exist)."""
    group = parser.add_argument_group("SNMP")
    group.add_argument("-V", "--version", dest="snmp_version", default="2c", choices=["1", "2c", "3"], help="default 2c")
    group.add_argument("-c", "--community", help="v1/v2c community (default public; prefer $YUNWEI_SNMP_COMMUNITY)")
    group.add_argument("--port", type=int, default=161, help="UDP port (default 161)")
    group.add_argument("-t", "--timeout", type=float, default=2.0, help="seconds per try (default 2)")
    group.add_argument("-r", "--retries", type=int, default=1, help="default 1")
    group.add_argument("-u", "--user", help="SNMPv3 user")
    group.add_argument("-a", "--auth-protocol", help=f"SNMPv3 auth: {', '.join(AUTH_PROTOCOLS)}")
    group.add_argument("-A", "--auth-key", help="SNMPv3 auth pass phrase (prefer $YUNWEI_SNMP_AUTH_KEY)")
    group.add_argument("-x", "--priv-protocol", help=f"SNMPv3 privacy: {', '.join(PRIV_PROTOCOLS)}")
    group.add_argument("-X", "--priv-key", help="SNMPv3 privacy pass phrase (prefer $YUNWEI_SNMP_PRIV_KEY)")


def endpoint_options(args: argparse.Namespace) -> dict[str, Any]:
    """The endpoint options from ``add_endpoint_arguments`` flags (secrets also from the environment)."""
    import os

    options: dict[str, Any] = {
        "version": args.snmp_version,
        "port": args.port,
        "timeout": args.timeout,
        "retries": args.retries,
    }
    community = args.community or os.environ.get("YUNWEI_SNMP_COMMUNITY")
    if community:
        options["community"] = community
    auth_key = args.auth_key or os.environ.get("YUNWEI_SNMP_AUTH_KEY")
    priv_key = args.priv_key or os.environ.get("YUNWEI_SNMP_PRIV_KEY")
    for key, value in (
        ("user", args.user),
        ("auth_protocol", args.auth_protocol),
        ("auth_key", auth_key),
        ("priv_protocol", args.priv_protocol),
        ("priv_key", priv_key),
    ):
        if value:
            options[key] = value
    return options
