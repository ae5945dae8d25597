"""Settings of the built-in exporters (their sections under ``exporters:``, exporters.section).

Each exporter has its own sub-section; a section that is absent means that exporter is off.
Every option has a default, and the example below shows them::

    exporters:
      influxdb:
        enabled: true
        flavor: victoriametrics       # influxdb2 (token + org), influxdb1 (1.8+ compat), victoriametrics
        url: http://127.0.0.1:8428
        org: ops                      # influxdb2 only
        bucket: yunwei                # influxdb1: "database/retention_policy"
        token: ${env:INFLUX_TOKEN}    # influxdb2: API token; influxdb1: "user:password"
        batch_size: 5000
      prometheus:
        enabled: true
        listen: 127.0.0.1:9469

A misspelt key, an unknown exporter, a bad URL or a missing token is an error at
``yunwei check`` naming the file, line and field.
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from inventory.models import Strict


class InfluxDBSettings(Strict):
    """Push samples, state changes, group rates and faults as InfluxDB line protocol."""

    enabled: bool = True
    flavor: Literal["influxdb2", "influxdb1", "victoriametrics"] = Field(
        "influxdb2",
        description="influxdb2: /api/v2/write with org, bucket and token (InfluxDB 2.x/3.x); "
        "influxdb1: InfluxDB 1.8+ through its v2 compatibility API (bucket 'db/rp', token 'user:password'); "
        "victoriametrics: any line-protocol store that ignores org/bucket",
    )
    url: str = Field(description="base URL of the server, e.g. http://10.0.0.5:8086")
    org: str = ""
    bucket: str = "yunwei"
    token: SecretStr | None = None
    batch_size: int = Field(5000, ge=1, le=1_000_000, description="lines per write request")
    gzip: bool = True
    gzip_level: int = Field(1, ge=1, le=9, description="1 is fast and already shrinks line protocol ~8x")
    timeout: float = Field(10.0, gt=0, description="seconds per write request")
    backoff_initial: float = Field(1.0, gt=0, description="first retry delay, doubled per failure")
    backoff_max: float = Field(120.0, gt=0, description="longest retry delay")
    queue_max_points: int = Field(
        200_000, ge=1, description="samples and state changes held in memory for the spool writer; more are dropped"
    )
    spool_max_points: int = Field(
        50_000_000, ge=1, description="lines kept in the SQLite spool while the backend is away; oldest dropped beyond"
    )
    faults: bool = Field(True, description="export fault events of the ledger as yunwei_fault")
    fault_poll_interval: float = Field(30.0, gt=0, description="seconds between looks at the ledger for fault changes")
    group_interval: float = Field(60.0, gt=0, description="at most one yunwei_group point per group this often")
    verify_tls: bool = True
    ca_cert: str | None = Field(None, description="CA bundle for an https URL with a private CA")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        if not parts.hostname:
            raise ValueError(f"{value!r} has no host name")
        if port == 0:
            raise ValueError(f"{value!r} has port 0")
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r}: give the server's base URL without ?query or #fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _credentials(self) -> InfluxDBSettings:
        token = self.token.get_secret_value() if self.token is not None else ""
        if self.flavor == "influxdb2":
            if not token:
                raise ValueError("token is required for flavor influxdb2 (an API token with write access to the bucket)")
            if not self.org:
                raise ValueError("org is required for flavor influxdb2")
        if self.flavor == "influxdb1" and token and ":" not in token:
            raise ValueError("for flavor influxdb1 the token is 'username:password'")
        if not self.bucket.strip():
            raise ValueError("bucket must not be empty")
        return self


class PrometheusSettings(Strict):
    """Expose the latest samples on ``/metrics`` and the agent's health on ``/healthz``."""

    enabled: bool = True
    listen: str = Field("127.0.0.1:9469", description="host:port to listen on ([::1]:9469 for IPv6)")
    overdue_factor: float = Field(3.0, gt=1, description="/healthz is 503 when a round is this many intervals late")
    generic_metrics: bool = Field(True, description="other probe metrics as yunwei_metric{name=...}")

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        parse_listen(value)
        return value

    @property
    def address(self) -> tuple[str, int]:
        return parse_listen(self.listen)


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` → (host, port); ValueError with a readable reason."""
    text = value.strip()
    if text.startswith("["):
        host, sep, port_text = text[1:].partition("]:")
    else:
        host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:9469)")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range 1-65535")
    host = host or "0.0.0.0"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part and len(part) <= 63 for part in host.split(".")) or " " in host:
            raise ValueError(f"{host!r} is neither an IP address nor a host name") from None
    return host, port
