"""Feishu / Lark (飞书) custom bot: an interactive card, optional signing.

Signing (签名校验): ``timestamp`` = epoch seconds, ``string_to_sign = timestamp + "\\n" +
secret``, ``sign`` = Base64 of HMAC-SHA256 with **key = string_to_sign over an empty
message**; both go into the JSON body. Success is ``code == 0`` (older replies say
``StatusCode == 0``); a bad signature answers 19021; 100 messages a minute, 5 a second; body
at most 20 KB. Mentions need Feishu ids (``<at id=ou_…></at>``, ``<at id=all></at>``).

Sample config::

    channels:
      ops-feishu:
        type: feishu
        url: https://open.feishu.cn/open-apis/bot/v2/hook/${env:FEISHU_HOOK}
        secret: ${env:FEISHU_SECRET}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field

from alerting.notifiers.base import (
    Message,
    Notifier,
    OptionalSecret,
    Payload,
    WebhookUrlChannel,
    fit_lines,
    json_bytes,
    register_notifier,
    truncation_marker,
)
from alerting.notifiers.http import post_json

MAX_BODY_BYTES = 20_000
TEMPLATE = {"critical": "red", "major": "orange", "minor": "yellow", "warning": "yellow", "ok": "green", "info": "blue"}


class FeishuChannel(WebhookUrlChannel):
    type: Literal["feishu"]
    secret: OptionalSecret = Field(None, description="the bot's 签名校验 secret")
    rate_per_minute: int | None = Field(None, ge=1, description="default 50 (the platform allows 100/min, 5/s)")

    def missing(self) -> str | None:
        path = urlsplit(self.url).path
        if "/hook/" in path and not path.rsplit("/hook/", 1)[1].strip("/"):
            return "the hook id at the end of its url is empty"
        return None


def feishu_sign(secret: str, timestamp: int) -> str:
    """Base64(HMAC-SHA256(key = timestamp + "\\n" + secret, message = b""))."""
    string_to_sign = f"{timestamp}\n{secret}"
    return base64.b64encode(hmac.new(string_to_sign.encode("utf-8"), b"", hashlib.sha256).digest()).decode("ascii")


@register_notifier
class FeishuNotifier(Notifier):
    type = "feishu"
    Options = FeishuChannel
    default_rate_per_minute = 50
    throttle_codes = frozenset({9499, 11232, 11233})

    def render(self, message: Message) -> Payload:
        mentions = "".join(f"<at id={user}></at>" for user in message.user_ids) + ("<at id=all></at>" if message.at_all else "")

        buttons = [
            {"tag": "action", "actions": [
                {"tag": "button", "text": {"tag": "plain_text", "content": label}, "url": url,
                 "type": "primary" if index == 0 else "default"}
                for index, (label, url) in enumerate(message.actions)
            ]}
        ] if message.actions else []

        def build(lines: list[str]) -> dict[str, Any]:
            content = "\n".join(lines + ([mentions] if mentions else []))
            return {
                "msg_type": "interactive",
                "card": {
                    "config": {"wide_screen_mode": True},
                    "header": {
                        "title": {"tag": "plain_text", "content": message.title},
                        "template": TEMPLATE.get(message.severity, "blue"),
                    },
                    "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": content}}, *buttons],
                },
            }

        lines = fit_lines(
            message.lines, lambda ls: len(json_bytes(build(ls))), MAX_BODY_BYTES - 200, truncation_marker(message.language)
        )
        return Payload(body=build(lines))

    def send(self, payload: Payload) -> str:
        body = dict(payload.body)
        if self.options.secret is not None:
            timestamp = int(self.clock())
            body["timestamp"] = str(timestamp)
            body["sign"] = feishu_sign(self.options.secret.get_secret_value(), timestamp)
        reply = post_json(self.options.url, json_bytes(body), payload.headers, self.options.timeout, f"feishu {self.name}")
        return self.check_code(reply, "code", "StatusCode")
