"""DingTalk (钉钉) group robot: markdown messages, @ by mobile or userId, optional signing.

An @ notifies someone only when it is in ``at.atMobiles``/``at.atUserIds`` *and* written as
``@13800000000`` / ``@userid`` in the markdown text (DingTalk's custom-robot rule); both go
at the end of the text.

Signing (when the robot's security setting is 加签): ``timestamp`` = epoch milliseconds,
``string_to_sign = timestamp + "\\n" + secret``, ``sign`` = URL-encoded Base64 of HMAC-SHA256
with key = secret over string_to_sign, appended to the URL as ``&timestamp=…&sign=…``.
Success is ``errcode == 0``; the robot takes at most 20 messages a minute (more throttles it
for 10 minutes, errcode 130101) and a body under 20,000 bytes.

Sample config::

    channels:
      ops-dingtalk:
        type: dingtalk
        url: https://oapi.dingtalk.com/robot/send?access_token=${env:DINGTALK_TOKEN}
        secret: ${env:DINGTALK_SECRET}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from typing import Literal

from pydantic import Field

from alerting.notifiers.base import (
    DeliveryError,
    Message,
    Notifier,
    OptionalSecret,
    Payload,
    WebhookUrlChannel,
    empty_query_value,
    fit_lines,
    json_bytes,
    register_notifier,
    truncation_marker,
)
from alerting.notifiers.http import post_json

MAX_BODY_BYTES = 20_000


class DingTalkChannel(WebhookUrlChannel):
    type: Literal["dingtalk"]
    secret: OptionalSecret = Field(None, description="the robot's 加签 secret (SEC...)")

    def missing(self) -> str | None:
        return "the access_token in its url is empty" if empty_query_value(self.url, "access_token") else None


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query value for ``timestamp_ms`` (already URL-encoded)."""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


@register_notifier
class DingTalkNotifier(Notifier):
    type = "dingtalk"
    Options = DingTalkChannel
    default_rate_per_minute = 20
    throttle_codes = frozenset({130101, 660026, 90018})

    def render(self, message: Message) -> Payload:
        # DingTalk notifies only those whose @mobile or @userId is also written in the text
        mentions = " ".join(f"@{who}" for who in [*message.mobiles, *message.user_ids])

        def build(lines: list[str]) -> dict[str, object]:
            text = "\n\n".join([f"### {message.title}", *lines] + ([mentions] if mentions else []))
            if message.actions and not mentions and not message.at_all:
                # an ActionCard's buttons open the fault on the console; it cannot @ anyone, so a
                # message that must notify someone stays markdown (its console line is a link)
                buttons = [{"title": label, "actionURL": url} for label, url in message.actions]
                return {"msgtype": "actionCard",
                        "actionCard": {"title": message.title, "text": text, "btnOrientation": "1", "btns": buttons}}
            return {
                "msgtype": "markdown",
                "markdown": {"title": message.title, "text": text},
                "at": {"atMobiles": list(message.mobiles), "atUserIds": list(message.user_ids), "isAtAll": message.at_all},
            }

        lines = fit_lines(
            message.lines, lambda ls: len(json_bytes(build(ls))), MAX_BODY_BYTES - 200, truncation_marker(message.language)
        )
        return Payload(body=build(lines))

    def send(self, payload: Payload) -> str:
        url = self.options.url
        if self.options.secret is not None:
            timestamp = int(self.clock() * 1000)
            sign = dingtalk_sign(self.options.secret.get_secret_value(), timestamp)
            url += ("&" if "?" in url else "?") + f"timestamp={timestamp}&sign={sign}"
        reply = post_json(url, json_bytes(payload.body), payload.headers, self.options.timeout, f"dingtalk {self.name}")
        if "errcode" not in reply:
            raise DeliveryError(f"dingtalk {self.name}: reply without errcode")
        return self.check_code(reply, "errcode")
