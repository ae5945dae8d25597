"""RTSP probe: ``OPTIONS`` then ``DESCRIBE`` on a camera's stream URL (default port 554).

Answers the question a camera contract asks: is the camera's streaming service alive, and is
its stream there? One connection per camera and round, asyncio streams only.

Semantics, per device:

- with ``username``/``password`` configured, ``200`` to DESCRIBE is alive; a ``401`` after we
  answered the challenge means the credentials are wrong: the sample fails with the error
  ``credentials wrong`` and the metric ``auth_failed=1`` (a fault of its own, not "offline");
- without credentials, a ``401`` still proves the RTSP service is alive (``ok``, info
  ``auth=required``);
- timeouts, refused connections and answers that are not RTSP are error samples that say so.

Digest (RFC 2617 / RFC 7616 algorithms MD5, SHA-256, -sess, qop=auth) is preferred; Basic is
sent only when the camera offers nothing better (``allow_basic: false`` refuses cleartext).

Metrics: ``rtt_seconds`` (OPTIONS round trip), ``connect_seconds``, ``describe_seconds``,
``status`` (the final status code), ``auth_failed`` (with credentials), ``media_count``.
Info: ``media`` (the SDP's m= kinds, e.g. ``video,audio``), ``codecs``, ``server``, ``auth``.

Sample config::

    probes:
      rtsp:
        path: /Streaming/Channels/101     # or url: rtsp://10.20.0.11:554/Streaming/Channels/101
        port: 554
        username: admin
        password: ${secret:camera_password}
        timeout: 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from collectors._httpauth import authorization, parse_challenges, pick
from collectors.base import (
    AUTH_FAILED,
    CONNECT,
    REFUSED,
    RTT,
    STATUS,
    PerTargetCollector,
    Target,
    describe_exception,
)
from collectors.registry import register
from core.errors import InputError
from core.metrics import MetricSpec
from core.model import Sample

MAX_HEADER_LINES = 100
MAX_BODY = 64 * 1024
STREAM_LIMIT = 16 * 1024  # the longest status or header line kept (the reader refuses longer ones)
USER_AGENT = "yunwei-probe/0.1"


class RtspOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="full rtsp:// URL; its host overrides the device's address")
    path: str = Field("/", description="stream path when no url is given")
    port: int = Field(554, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = Field(5.0, gt=0)
    describe: bool = Field(True, description="false: OPTIONS only")
    allow_basic: bool = Field(True, description="false: never send Basic (cleartext) credentials")

    @field_validator("url")
    @classmethod
    def _rtsp_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("rtsp", "rtsps") or not parts.hostname:
            raise ValueError(f"{value!r} is not an rtsp:// URL")
        if parts.scheme == "rtsps":
            raise ValueError("rtsps:// (RTSP over TLS) is not supported; use rtsp://")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return value if value.startswith("/") else "/" + value


@dataclass
class RtspResponse:
    status: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


class RtspProtocolError(Exception):
    """The peer answered something that is not RTSP."""


class RtspClosed(RtspProtocolError):
    """The peer closed the connection instead of answering."""


@dataclass
class Endpoint:
    host: str
    port: int
    url: str  # the request URL, without user info
    username: str | None
    password: str | None


def endpoint(target: Target) -> Endpoint:
    """Where to connect and what URL to ask for, credentials from options or URL user info."""
    options: RtspOptions = target.options
    username = options.username
    password = options.password.get_secret_value() if options.password else None
    if options.url:
        parts = urlsplit(options.url)
        host = parts.hostname or ""
        port = parts.port or options.port
        if parts.username and username is None:
            username = unquote(parts.username)
            password = unquote(parts.password or "") if password is None else password
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
    else:
        host, port, path = target.address, options.port, options.path
    host_part = f"[{host}]" if ":" in host else host
    url = f"rtsp://{host_part}:{port}{path}" if port != 554 else f"rtsp://{host_part}{path}"
    return Endpoint(host=host, port=port, url=url, username=username, password=password)


class RtspSession:
    """One RTSP connection: requests with increasing CSeq, responses parsed strictly."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.cseq = 0

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None) -> RtspResponse:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", f"User-Agent: {USER_AGENT}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        await self.writer.drain()
        return await read_response(self.reader)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)


async def read_response(reader: asyncio.StreamReader) -> RtspResponse:
    """Read one RTSP response (status line, headers, body by Content-Length)."""
    try:
        first = await reader.readline()
    except (asyncio.LimitOverrunError, ValueError) as exc:
        raise RtspProtocolError("not an RTSP answer (a long line without end)") from exc
    if not first:
        raise RtspClosed("connection closed without an answer")
    line = first.decode("latin-1").rstrip("\r\n")
    pieces = line.split(" ", 2)
    if len(pieces) < 2 or not pieces[0].startswith("RTSP/") or not (pieces[1].isdigit() and len(pieces[1]) == 3):
        raise RtspProtocolError(f"not an RTSP answer: {_printable(line[:60])!r}")
    response = RtspResponse(status=int(pieces[1]), reason=pieces[2] if len(pieces) > 2 else "")
    for _ in range(MAX_HEADER_LINES):
        try:
            raw = await reader.readline()
        except (asyncio.LimitOverrunError, ValueError) as exc:
            raise RtspProtocolError("RTSP header line too long") from exc
        text = raw.decode("latin-1").rstrip("\r\n")
        if not text:
            break
        name, sep, value = text.partition(":")
        if not sep:
            raise RtspProtocolError(f"malformed RTSP header: {_printable(text[:60])!r}")
        response.headers.setdefault(name.strip().lower(), []).append(value.strip())
    else:
        raise RtspProtocolError("too many RTSP header lines")
    length = response.header("content-length")
    if length:
        if not length.isdigit():
            raise RtspProtocolError(f"bad Content-Length {length!r}")
        # a longer body is cut: the connection is closed after the probe anyway
        response.body = await reader.readexactly(min(int(length), MAX_BODY))
    return response


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def sdp_media(body: bytes) -> tuple[list[str], list[str]]:
    """The media kinds (``m=video ...`` → ``video``) and codec names (``a=rtpmap:96 H264/90000``)."""
    kinds: list[str] = []
    codecs: list[str] = []
    for raw in body.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
            if kind and kind not in kinds:
                kinds.append(kind)
        elif line.startswith("a=rtpmap:"):
            _, _, encoding = line.partition(" ")
            name = encoding.split("/", 1)[0].strip()
            if name and name not in codecs:
                codecs.append(name)
    return kinds, codecs


@register
class RtspCollector(PerTargetCollector):
    """RTSP OPTIONS/DESCRIBE: camera stream alive, auth checked, SDP media kinds."""

    name = "rtsp"
    metrics = (
        REFUSED,
        CONNECT,
        RTT,
        MetricSpec("describe_seconds", "seconds", help="Time to answer DESCRIBE"),
        STATUS,
        AUTH_FAILED,
        MetricSpec("media_count", help="Media streams (video, audio) the SDP describes"),
    )
    Options = RtspOptions
    sample_config = "rtsp:\n  path: /stream\n  port: 554\n  username: admin\n  password: example\n  timeout: 5\n"

    async def probe(self, target: Target) -> Sample:
        options: RtspOptions = target.options
        started = time.time()
        point = endpoint(target)
        if not point.host:
            return target.failure("no address: set the device's address or the probe's url", ts=started)
        try:
            return await asyncio.wait_for(self._exchange(target, point, started), options.timeout)
        except TimeoutError:
            return target.failure(f"timeout after {options.timeout:g} s (no RTSP answer, port {point.port})", ts=started)

    async def _exchange(self, target: Target, point: Endpoint, started: float) -> Sample:
        options: RtspOptions = target.options
        metrics: dict[str, float] = {}
        info: dict[str, str] = {}
        clock = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(point.host, point.port, limit=STREAM_LIMIT)
        except ConnectionRefusedError:
            return target.failure(f"connection refused (port {point.port})", ts=started, metrics={"refused": 1.0})
        except OSError as exc:
            return target.failure(f"{describe_exception(exc)} (port {point.port})", ts=started)
        metrics["connect_seconds"] = time.perf_counter() - clock
        session = RtspSession(reader, writer)
        try:
            clock = time.perf_counter()
            answer = await session.request("OPTIONS", point.url)
            metrics["rtt_seconds"] = time.perf_counter() - clock
            info["server"] = answer.header("server") or ""
            method = "OPTIONS"
            if options.describe and answer.status < 400:
                method = "DESCRIBE"
                clock = time.perf_counter()
                answer = await session.request("DESCRIBE", point.url, {"Accept": "application/sdp"})
                metrics["describe_seconds"] = time.perf_counter() - clock
            if answer.status == 401:
                if point.username is None:
                    info["auth"] = "required"
                    metrics["status"] = 401.0
                    return target.sample(True, ts=started, metrics=metrics, info=_clean(info))
                session, answer = await self._authenticate(session, point, method, answer, info, options.allow_basic)
                metrics["auth_failed"] = 0.0
                if answer is None:
                    metrics["status"] = 401.0
                    return target.failure(info.pop("_error"), ts=started, metrics=metrics, info=_clean(info))
                if answer.status == 401:
                    metrics["status"] = 401.0
                    metrics["auth_failed"] = 1.0
                    return target.failure(
                        f"credentials wrong (camera refused user {point.username!r})",
                        ts=started,
                        metrics=metrics,
                        info=_clean(info),
                    )
            elif point.username is not None:
                metrics["auth_failed"] = 0.0
                info.setdefault("auth", "none")
            metrics["status"] = float(answer.status)
            if answer.status >= 400:
                return target.failure(
                    f"{method} answered {answer.status} {answer.reason}".strip(), ts=started, metrics=metrics, info=_clean(info)
                )
            if method == "DESCRIBE" and answer.body:
                kinds, codecs = sdp_media(answer.body)
                metrics["media_count"] = float(len(kinds))
                info["media"] = ",".join(kinds)
                info["codecs"] = ",".join(codecs)
            return target.sample(True, ts=started, metrics=metrics, info=_clean(info))
        except RtspProtocolError as exc:
            return target.failure(str(exc), ts=started, metrics=metrics)
        except asyncio.IncompleteReadError:
            return target.failure("connection closed in the middle of an RTSP answer", ts=started, metrics=metrics)
        except (ConnectionResetError, BrokenPipeError) as exc:
            return target.failure(describe_exception(exc), ts=started, metrics=metrics)
        except OSError as exc:
            return target.failure(describe_exception(exc), ts=started, metrics=metrics)
        finally:
            await session.close()

    async def _authenticate(
        self,
        session: RtspSession,
        point: Endpoint,
        method: str,
        answer: RtspResponse,
        info: dict[str, str],
        allow_basic: bool,
    ) -> tuple[RtspSession, RtspResponse | None]:
        """Answer the 401's challenge and repeat the request (once more if the nonce went stale)."""
        for _ in range(2):
            challenges = parse_challenges(answer.headers.get("www-authenticate", []))
            challenge = pick(challenges, allow_basic=allow_basic)
            if challenge is None:
                offered = ", ".join(sorted({c.scheme for c in challenges})) or "none"
                if any(c.scheme == "basic" for c in challenges) and not allow_basic:
                    info["_error"] = "camera offers only Basic auth (cleartext) and allow_basic is false"
                else:
                    info["_error"] = f"camera asks for an authentication scheme we cannot answer ({offered})"
                return session, None
            info["auth"] = challenge.scheme
            header = authorization(challenge, method, point.url, point.username or "", point.password or "")
            extra = {"Authorization": header}
            if method == "DESCRIBE":
                extra["Accept"] = "application/sdp"
            try:
                retry = await session.request(method, point.url, extra)
            except (RtspClosed, ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError):
                # some cameras close the connection after a 401: ask again on a fresh one
                await session.close()
                reader, writer = await asyncio.open_connection(point.host, point.port, limit=STREAM_LIMIT)
                session = RtspSession(reader, writer)
                retry = await session.request(method, point.url, extra)
            stale = retry.status == 401 and any(
                c.params.get("stale", "").lower() == "true"
                for c in parse_challenges(retry.headers.get("www-authenticate", []))
            )
            answer = retry
            if not stale:
                break
        return session, answer

    def timeout_for(self, target: Target) -> float:
        return float(target.options.timeout) + 2.0

    @classmethod
    def add_cli_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--username", help="camera user")
        parser.add_argument("--password-env", help="name of the environment variable holding the password")
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")

    @classmethod
    def cli_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        import os

        target = args.target
        options: dict[str, Any] = {"timeout": args.timeout}
        if target.startswith("rtsp://"):
            options["url"] = target
        if args.username:
            options["username"] = args.username
        if args.password_env:
            if args.password_env not in os.environ:  # an empty password would read as "credentials wrong"
                raise InputError.single(
                    "command line", f"environment variable {args.password_env!r} is not set", field="--password-env"
                )
            options["password"] = os.environ[args.password_env]
        return options


def _clean(info: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in info.items() if v and not k.startswith("_")}
