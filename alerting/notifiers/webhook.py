"""Generic JSON webhook: the message as JSON, signed with HMAC-SHA256 in a header.

Headers: ``X-Yunwei-Timestamp`` (epoch seconds), ``X-Yunwei-Signature: sha256=<hex>`` where
hex = HMAC-SHA256(key = secret, message = timestamp + "." + raw body), and
``X-Yunwei-Message-Id`` (stable across retries: a receiver can drop a duplicate delivered in
the at-least-once window). Any 2xx is success.

Sample config::

    channels:
      itsm:
        type: webhook
        url: https://itsm.example.gov.cn/hooks/yunwei
        secret: ${env:ITSM_HOOK_SECRET}
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from pydantic import Field

from alerting.notifiers.base import (
    Message,
    Notifier,
    OptionalSecret,
    Payload,
    WebhookUrlChannel,
    json_bytes,
    register_notifier,
)
from alerting.notifiers.http import post


class WebhookChannel(WebhookUrlChannel):
    type: Literal["webhook"]
    secret: OptionalSecret = Field(None, description="HMAC-SHA256 key for X-Yunwei-Signature")
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


@register_notifier
class WebhookNotifier(Notifier):
    type = "webhook"
    Options = WebhookChannel
    default_rate_per_minute = 60

    def render(self, message: Message) -> Payload:
        body = {
            "kind": message.kind,
            "title": message.title,
            "text": "\n".join(message.lines),
            "severity": message.severity,
            "level": message.level,
            "thread": message.thread,
            "faults": list(message.refs),
            "mention": {"mobiles": list(message.mobiles), "user_ids": list(message.user_ids), "all": message.at_all},
            "language": message.language,
        }
        return Payload(body=body, headers={"X-Yunwei-Message-Id": message.key})

    def send(self, payload: Payload) -> str:
        raw = json_bytes(payload.body)
        headers = {**self.options.headers, **payload.headers}
        if self.options.secret is not None:
            timestamp = int(self.clock())
            headers["X-Yunwei-Timestamp"] = str(timestamp)
            headers["X-Yunwei-Signature"] = webhook_signature(self.options.secret.get_secret_value(), timestamp, raw)
        status, _ = post(self.options.url, raw, headers, self.options.timeout, f"webhook {self.name}")
        return f"HTTP {status}"
