"""The notifier interface: ``render(message) -> Payload`` (pure) and ``send(payload)``.

A ``Message`` is what alerting wants to say, in no platform's format: a title, markdown lines,
a severity, whom to @ and the fault ids it is about. Each channel module turns it into its
platform's request body (``render``, pure, tested against exact payloads) and delivers it
(``send``), signing at send time (the platforms reject old timestamps) and reading the
platform's own error code: an HTTP 200 with ``errcode != 0`` is a failure.

``send`` raises ``DeliveryError`` on any failure; the outbox retries it with backoff. Nothing
here decides whether or when to send: thresholds, grouping, rate limits and retries live once,
in alerting/ (the outbox and the dispatcher).
"""

from __future__ import annotations

import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, ClassVar, TypeVar
from urllib.parse import parse_qs, urlsplit

from pydantic import BeforeValidator, Field, SecretStr, field_validator

from inventory.models import Strict
from inventory.plugins import Registry

N = TypeVar("N", bound="Notifier")

SEVERITY_OF_LEVEL = {1: "critical", 2: "major", 3: "minor", 4: "minor"}


@dataclass
class Message:
    """One chat message before any platform formatting."""

    kind: str  # open, resolved, ack, escalated, reminder, overdue, warn, meeting, summary
    title: str
    lines: list[str]
    severity: str = "info"  # critical, major, minor, warning, ok, info
    thread: str = ""  # the fault id (or group bucket) the message belongs to
    refs: list[str] = field(default_factory=list)  # fault ids mentioned
    level: int | None = None
    mobiles: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    at_all: bool = False
    key: str = ""  # stable identity of the message (idempotency key for webhooks)
    starts_thread: bool = False  # the first message of its thread (an e-mail's Message-ID)
    language: str = "zh"
    # buttons (label, url) that open the fault on the web console (web.public_url): 确认 / 查看
    actions: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(**data)


@dataclass
class Payload:
    """A rendered request: the JSON body (or e-mail parts) and extra headers."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"body": self.body, "headers": self.headers}, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Payload:
        data = json.loads(text)
        return cls(body=data["body"], headers=data.get("headers", {}))


class DeliveryError(Exception):
    """The platform did not accept the message. ``throttled`` asks for a longer pause."""

    def __init__(self, detail: str, throttled: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.throttled = throttled


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# A secret that may be left empty (``${env:NAME:-}`` with NAME unset): empty means none.
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_is_none)]


class ChannelBase(Strict):
    """Options every channel has."""

    type: str
    timeout: float = Field(10.0, gt=0, le=120, description="seconds for one delivery attempt")
    rate_per_minute: int | None = Field(None, ge=1, description="default: the platform's documented limit")

    def missing(self) -> str | None:
        """Why this channel cannot send at all (an empty credential), or None.

        A channel written with ``${env:NAME:-}`` whose variable is unset is *off*: alerting says
        so when it starts and whenever a message for it is not sent, and queues nothing for it."""
        return None


def empty_query_value(url: str, name: str) -> bool:
    """True when the URL's ``name=`` query parameter is absent or empty (``access_token=``)."""
    values = parse_qs(urlsplit(url).query, keep_blank_values=True).get(name, [])
    return not any(v.strip() for v in values)


class WebhookUrlChannel(ChannelBase):
    url: str = Field(description="the robot's webhook address (contains its token: use ${env:...})")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("is not an http:// or https:// URL")
        return value


class Notifier(ABC):
    """Base of every channel: ``render`` is pure, ``send`` does one delivery attempt."""

    type: ClassVar[str]
    Options: ClassVar[type[ChannelBase]]  # the channel's config model (``type: <type>`` picks it)
    default_rate_per_minute: ClassVar[int] = 20
    # Platform error codes that mean "too many messages": the outbox pauses the channel longer.
    throttle_codes: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, name: str, options: Any, clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.options = options
        self.clock = clock

    @property
    def rate_per_minute(self) -> int:
        return self.options.rate_per_minute or self.default_rate_per_minute

    @abstractmethod
    def render(self, message: Message) -> Payload:
        """The platform's request for ``message``; pure (no clock, no secrets, no I/O)."""

    @abstractmethod
    def send(self, payload: Payload) -> str:
        """Deliver once; returns the platform's acknowledgement, raises DeliveryError."""

    def check_code(self, reply: dict[str, Any], *keys: str) -> str:
        """Raise DeliveryError unless the first of ``keys`` present in ``reply`` is 0."""
        for key in keys:
            if key in reply:
                code = reply[key]
                message = reply.get("errmsg") or reply.get("msg") or reply.get("StatusMessage") or ""
                if code == 0:
                    return f"{key}=0 {message}".strip()
                throttled = isinstance(code, int) and code in self.throttle_codes
                raise DeliveryError(f"{self.type} {key} {code}: {message}".strip(), throttled=throttled)
        raise DeliveryError(f"{self.type}: reply without {' or '.join(keys)}: {json.dumps(reply, ensure_ascii=False)[:200]}")


def json_bytes(body: dict[str, Any]) -> bytes:
    """The exact bytes a JSON body is sent as (UTF-8, no ASCII escaping)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fit_lines(lines: list[str], build: Callable[[list[str]], int], limit: int, more: str) -> list[str]:
    """The longest prefix of ``lines`` (plus a ``more`` marker when cut) whose built size is within ``limit``."""
    if build(lines) <= limit:
        return lines
    low, high = 0, len(lines)
    while low < high:  # binary search on the number of lines kept
        middle = (low + high + 1) // 2
        if build([*lines[:middle], more]) <= limit:
            low = middle
        else:
            high = middle - 1
    return [*lines[:low], more]


_MARKDOWN = re.compile(r"\*\*|__|^#+\s*|^>\s*", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """Markdown lines as plain text (for text messages and e-mail)."""
    return _MARKDOWN.sub("", markdown)


def truncation_marker(language: str) -> str:
    return "…(内容过长, 已截断)" if language == "zh" else "…(truncated)"


NOTIFIERS: Registry[type[Notifier]] = Registry("notifier", lambda cls: cls.type)


def register_notifier(cls: type[N]) -> type[N]:
    """Class decorator: make a notifier (and its channel model ``Options``) known under ``type``."""
    return NOTIFIERS.register(cls)
