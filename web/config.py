"""The ``web:`` section of the config: where the console listens, TLS, sessions.

.. code-block:: yaml

    web:
      listen: 127.0.0.1:8470          # default; a non-loopback address needs tls: or allow_cleartext_remote
      tls: {cert: /etc/yunwei/web.crt, key: /etc/yunwei/web.key}
      public_url: https://jump.example.gov.cn:8470   # links in chat messages
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator, model_validator

from inventory.models import Strict


class TlsFiles(Strict):
    cert: str = Field(description="PEM certificate (chain) file")
    key: str = Field(description="PEM private key file")


class WebConfig(Strict):
    enabled: bool = Field(True, description="serve the console once a user exists (yunwei user add)")
    listen: str = Field("127.0.0.1:8470", description="HOST:PORT (port 0: any free port)")
    tls: TlsFiles | None = None
    public_url: str | None = Field(None, description="the console's address as engineers reach it, for chat links")
    allow_cleartext_remote: bool = Field(
        False, description="allow a non-loopback listen address without TLS (logged as a warning)"
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 30)
    max_failures: int = Field(5, ge=1, description="failed logins in a row before the account is locked")
    lockout_minutes: float = Field(15.0, gt=0)
    bigscreen_refresh_seconds: float = Field(15.0, ge=2)
    page_size: int = Field(100, ge=10, le=1000)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, port = split_listen(value)
        if not 0 <= port <= 65535:
            raise ValueError(f"listen {value!r}: port must be 0..65535")
        if not host:
            raise ValueError(f"listen {value!r}: give HOST:PORT, e.g. 127.0.0.1:8470")
        return value

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"public_url {value!r} must start with https:// (or http://)")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _cleartext(self) -> WebConfig:
        if self.tls is None and not self.loopback and not self.allow_cleartext_remote:
            raise ValueError(
                f"listen {self.listen} is not a loopback address: configure tls: {{cert, key}} "
                "(cleartext management is forbidden by contract security annexes) or set allow_cleartext_remote: true"
            )
        return self

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]

    @property
    def loopback(self) -> bool:
        host = self.host
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


def split_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        raise ValueError(f"listen {value!r}: give HOST:PORT, e.g. 127.0.0.1:8470")
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"listen {value!r}: the port {port!r} is not a number") from None
    return host.strip("[]"), number
