"""ONVIF probe: the camera's clock and identity over HTTP SOAP 1.2 (ONVIF Device service).

1. ``GetSystemDateAndTime`` needs no authentication (ONVIF Core §5.9.4): it proves the ONVIF
   service answers and gives the camera's UTC clock. ``clock_drift_seconds`` is camera minus
   our clock (positive: the camera is ahead), corrected by half the round trip and by half a
   second for the camera's truncated seconds (so it is good to about ±0.5 s); a drift beyond
   ``max_clock_drift`` sets ``clock_drift_exceeded=1`` because a wrong camera clock breaks the
   timestamps on evidence (recordings, snapshots) the contract relies on.
2. With ``username``/``password``: ``GetDeviceInformation`` with a WS-Security UsernameToken
   (PasswordDigest = Base64(SHA1(nonce + created + password)), ``Created`` taken on the
   camera's clock so that cameras checking freshness accept it) → manufacturer, model,
   firmware, serial number and hardware id, returned as ``fact.*`` info and stored as device
   facts by the agent. A camera that refuses the token makes the sample fail with
   ``credentials wrong`` and ``auth_failed=1``.

Sample config::

    probes:
      onvif:
        port: 80                       # or url: http://10.20.0.11/onvif/device_service
        username: admin
        password: ${secret:camera_password}
        timeout: 5
        max_clock_drift: 60            # seconds
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import ssl
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from collectors._http_post import MEMORY_PER_REQUEST, HttpAnswer, NotHttpError, post
from collectors._http_wire import AnswerTooLarge
from collectors.base import AUTH_FAILED, REFUSED, RTT, PerTargetCollector, Target, describe_exception
from collectors.registry import register
from core.metrics import MetricSpec
from core.model import Sample

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
BASE64_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
AUTH_FAULTS = ("NotAuthorized", "FailedAuthentication", "InvalidSecurityToken", "InvalidSecurity")
FACTS = {
    "Manufacturer": "manufacturer",
    "Model": "model",
    "FirmwareVersion": "firmware",
    "SerialNumber": "serial",
    "HardwareId": "hardware_id",
}


class OnvifOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="device service URL; its host overrides the device's address")
    port: int = Field(80, ge=1, le=65535)
    path: str = "/onvif/device_service"
    https: bool = False
    verify_tls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = Field(5.0, gt=0)
    max_clock_drift: float = Field(60.0, gt=0, description="seconds of camera clock error before it is flagged")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value


class SoapError(Exception):
    """A SOAP fault or an answer that is not the expected SOAP."""

    def __init__(self, message: str, auth: bool = False) -> None:
        super().__init__(message)
        self.auth = auth


def envelope(operation: str, security: str = "") -> bytes:
    """A SOAP 1.2 envelope calling one operation of the ONVIF device service."""
    header = f"<s:Header>{security}</s:Header>" if security else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP_ENV}">{header}'
        f'<s:Body><{operation} xmlns="{DEVICE_NS}"/></s:Body></s:Envelope>'
    ).encode()


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security UsernameToken PasswordDigest: Base64(SHA-1(nonce + created + password))."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def username_token(username: str, password: str, created_at: datetime, nonce: bytes | None = None) -> str:
    """The ``wsse:Security`` header with a digest UsernameToken."""
    nonce = nonce or os.urandom(16)
    created = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{created_at.microsecond // 1000:03d}Z"
    return (
        f'<wsse:Security s:mustUnderstand="1" xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}">'
        "<wsse:UsernameToken>"
        f"<wsse:Username>{_xml_escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{DIGEST_TYPE}">{password_digest(nonce, created, password)}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{BASE64_TYPE}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
        f"<wsu:Created>{created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: ET.Element, *path: str) -> ET.Element | None:
    """The first element reached by local names (namespaces ignored: vendors prefix freely)."""
    current: list[ET.Element] = [root]
    for name in path:
        found = [child for element in current for child in element.iter() if _local(child.tag) == name]
        if not found:
            return None
        current = found[:1]
    return current[0]


def parse_soap(answer: HttpAnswer, operation: str) -> ET.Element:
    """The ``<operation>Response`` element, or a SoapError naming the fault."""
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError as exc:
        if answer.status == 401:
            raise SoapError("HTTP 401: the camera wants HTTP authentication", auth=True) from None
        shown = answer.body[:60].decode("utf-8", "replace")
        raise SoapError(f"HTTP {answer.status}: not a SOAP answer ({exc}): {shown!r}") from None
    fault = _find(root, "Body", "Fault")
    if fault is not None:
        codes = [el.text.strip() for el in fault.iter() if _local(el.tag) == "Value" and el.text]
        reason = next((el.text.strip() for el in fault.iter() if _local(el.tag) in ("Text", "faultstring") and el.text), "")
        subcode = codes[-1].rsplit(":", 1)[-1] if codes else ""
        auth = any(code.rsplit(":", 1)[-1] in AUTH_FAULTS for code in codes) or answer.status == 401
        raise SoapError(f"SOAP fault {subcode or 'unknown'}: {reason}".strip().rstrip(":"), auth=auth)
    response = _find(root, "Body", f"{operation}Response")
    if response is None:
        if answer.status == 401:
            raise SoapError("HTTP 401: the camera wants HTTP authentication", auth=True)
        raise SoapError(f"HTTP {answer.status}: no {operation}Response in the answer")
    return response


def parse_utc_clock(response: ET.Element) -> datetime | None:
    """The camera's UTC time from a GetSystemDateAndTimeResponse (LocalDateTime + TZ as fallback)."""

    def moment(container: ET.Element | None) -> datetime | None:
        if container is None:
            return None
        values: dict[str, int] = {}
        for name in ("Year", "Month", "Day", "Hour", "Minute", "Second"):
            element = _find(container, name)
            if element is None or element.text is None or not element.text.strip().lstrip("-").isdigit():
                return None
            values[name.lower()] = int(element.text.strip())
        try:
            return datetime(tzinfo=UTC, **values)
        except ValueError:
            return None

    utc = moment(_find(response, "UTCDateTime"))
    if utc is not None:
        return utc
    local = moment(_find(response, "LocalDateTime"))
    tz = _find(response, "TZ")
    offset = posix_tz_offset(tz.text if tz is not None and tz.text else "")
    if local is None or offset is None:
        return None
    return local - offset


def posix_tz_offset(text: str) -> timedelta | None:
    """East-of-UTC offset of a POSIX TZ string's standard time: ``CST-8`` → +8 h."""
    match = re.match(r"^\s*(?:<[^>]+>|[A-Za-z]{3,})([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?", text)
    if not match:
        return None
    sign = -1 if match.group(1) == "-" else 1
    west = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0), seconds=int(match.group(4) or 0))
    return -sign * west


@dataclass
class _Endpoint:
    url: str
    verify_tls: bool


def endpoint(target: Target) -> _Endpoint:
    options: OnvifOptions = target.options
    if options.url:
        return _Endpoint(options.url, options.verify_tls)
    host = target.address
    host_part = f"[{host}]" if ":" in host else host
    scheme = "https" if options.https else "http"
    default = 443 if options.https else 80
    port = "" if options.port == default else f":{options.port}"
    path = options.path if options.path.startswith("/") else "/" + options.path
    return _Endpoint(f"{scheme}://{host_part}{port}{path}", options.verify_tls)


async def call(point: _Endpoint, operation: str, security: str = "") -> HttpAnswer:
    headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{DEVICE_NS}/{operation}"'}
    return await post(point.url, envelope(operation, security), headers, verify_tls=point.verify_tls)


@register
class OnvifCollector(PerTargetCollector):
    """ONVIF device service: clock drift and identity (manufacturer, model, firmware, serial)."""

    name = "onvif"
    metrics = (
        RTT,
        MetricSpec("clock_drift_seconds", "seconds", help="Camera clock minus the agent's clock"),
        MetricSpec("clock_drift_exceeded", help="1 when the clock drift exceeds the allowed limit"),
        AUTH_FAILED,
        REFUSED,
    )
    Options = OnvifOptions
    memory_per_probe = MEMORY_PER_REQUEST  # its SOAP calls run one after the other
    sample_config = "onvif:\n  port: 80\n  username: admin\n  password: example\n  timeout: 5\n"

    def timeout_for(self, target: Target) -> float:
        return float(target.options.timeout) + 2.0

    async def probe(self, target: Target) -> Sample:
        options: OnvifOptions = target.options
        started = time.time()
        if not options.url and not target.address:
            return target.failure("no address: set the device's address or the probe's url", ts=started)
        try:
            return await asyncio.wait_for(self._exchange(target, started), options.timeout)
        except TimeoutError:
            return target.failure(f"timeout after {options.timeout:g} s (no ONVIF answer)", ts=started)

    async def _exchange(self, target: Target, started: float) -> Sample:
        options: OnvifOptions = target.options
        point = endpoint(target)
        metrics: dict[str, float] = {}
        info: dict[str, str] = {}
        try:
            sent = time.time()
            clock = time.perf_counter()
            answer = await call(point, "GetSystemDateAndTime")
            rtt = time.perf_counter() - clock
            metrics["rtt_seconds"] = rtt
            response = parse_soap(answer, "GetSystemDateAndTime")
            camera_utc = parse_utc_clock(response)
            drift = 0.0
            if camera_utc is None:
                info["clock"] = "the camera did not say its time"
            else:
                # cameras give whole seconds (truncated): +0.5 s centres the estimate
                drift = camera_utc.timestamp() + 0.5 - (sent + rtt / 2)
                metrics["clock_drift_seconds"] = drift
                exceeded = abs(drift) > options.max_clock_drift
                metrics["clock_drift_exceeded"] = float(exceeded)
                if exceeded:
                    info["clock"] = f"camera clock off by {drift:+.0f} s"
                sync = _find(response, "DateTimeType")
                if sync is not None and sync.text:
                    info["clock_source"] = sync.text.strip()
            if options.username is None:
                return target.sample(True, ts=started, metrics=metrics, info=info)
            password = options.password.get_secret_value() if options.password else ""
            created = datetime.now(UTC) + timedelta(seconds=drift)
            security = username_token(options.username, password, created)
            answer = await call(point, "GetDeviceInformation", security)
            try:
                details = parse_soap(answer, "GetDeviceInformation")
            except SoapError as exc:
                if exc.auth:
                    metrics["auth_failed"] = 1.0
                    return target.failure(
                        f"credentials wrong (camera refused user {options.username!r}: {exc})",
                        ts=started,
                        metrics=metrics,
                        info=info,
                    )
                raise
            metrics["auth_failed"] = 0.0
            for element_name, fact in FACTS.items():
                element = _find(details, element_name)
                if element is not None and element.text and element.text.strip():
                    info[f"fact.{fact}"] = element.text.strip()
            return target.sample(True, ts=started, metrics=metrics, info=info)
        except SoapError as exc:
            return target.failure(str(exc), ts=started, metrics=metrics, info=info)
        except AnswerTooLarge as exc:
            return target.failure(f"answer refused: {exc}", ts=started, metrics=metrics)
        except NotHttpError as exc:
            return target.failure(str(exc), ts=started, metrics=metrics)
        except ConnectionRefusedError:
            port = urlsplit(point.url).port or (443 if point.url.startswith("https") else 80)
            return target.failure(f"connection refused (port {port})", ts=started, metrics={"refused": 1.0})
        except ssl.SSLCertVerificationError as exc:
            return target.failure(f"TLS certificate not trusted: {exc.verify_message}", ts=started)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, ValueError) as exc:
            return target.failure(describe_exception(exc), ts=started, metrics=metrics)

    @classmethod
    def cli_options(cls, args: Any) -> dict[str, Any]:
        target = str(args.target)
        return {"url": target} if target.startswith(("http://", "https://")) else {}
