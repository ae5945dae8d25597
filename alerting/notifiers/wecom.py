"""WeCom (企业微信) group robot: markdown, or text when someone must be @-ed by mobile.

The webhook URL carries the robot's ``key``. Its markdown is a subset (headings, bold, links,
inline code, quotes, ``<font color>``; no lists), so list items are sent as quoted lines.
Markdown content is at most 4,096 bytes and can
@ only by userid (``<@userid>``); a text message (at most 2,048 bytes) can @ by mobile
(``mentioned_mobile_list``) and everyone (``@all``), so a message that must @ by mobile or
everyone is sent as text. Success is ``errcode == 0``; 20 messages a minute (45009 when
exceeded); an invalid key answers 93000.

Sample config::

    channels:
      ops-wecom:
        type: wecom
        url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${env:WECOM_KEY}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from alerting.notifiers.base import (
    Message,
    Notifier,
    Payload,
    WebhookUrlChannel,
    empty_query_value,
    fit_lines,
    json_bytes,
    plain_text,
    register_notifier,
    truncation_marker,
)
from alerting.notifiers.http import post_json

MARKDOWN_MAX_BYTES = 4096
TEXT_MAX_BYTES = 2048


class WeComChannel(WebhookUrlChannel):
    type: Literal["wecom"]
    msgtype: Literal["markdown", "text"] = Field("markdown", description="text always; markdown unless @ by mobile")

    @field_validator("url")
    @classmethod
    def _has_key(cls, value: str) -> str:
        if "key=" not in value:
            raise ValueError("a WeCom robot URL ends in ?key=... (copy it from the robot's settings)")
        return value

    def missing(self) -> str | None:
        return "the key in its url is empty" if empty_query_value(self.url, "key") else None


def template_card(message: Message) -> dict[str, object]:
    """A text_notice template card: the title, the first lines, and buttons (jump_list) to the
    fault on the console; tapping the card opens the first. It cannot mention anyone: a message
    that must stays markdown with its console link line."""
    summary = plain_text(" · ".join(line.lstrip("-> ").replace("**", "") for line in message.lines[:3]))
    return {
        "msgtype": "template_card",
        "template_card": {
            "card_type": "text_notice",
            "main_title": {"title": message.title[:26], "desc": message.title[26:56]},
            "sub_title_text": summary[:112],
            "jump_list": [{"type": 1, "title": label, "url": url} for label, url in message.actions],
            "card_action": {"type": 1, "url": message.actions[0][1]},
        },
    }


def markdown_subset(line: str) -> str:
    """A line in what WeCom's robot markdown renders: headings, bold, links, `code`, quotes and
    <font color>; it has no lists, so a ``- `` item becomes a quoted line."""
    if line.startswith(("- ", "* ")):
        return "> " + line[2:]
    return line


@register_notifier
class WeComNotifier(Notifier):
    type = "wecom"
    Options = WeComChannel
    default_rate_per_minute = 20
    throttle_codes = frozenset({45009, 45033})

    def render(self, message: Message) -> Payload:
        marker = truncation_marker(message.language)
        as_text = self.options.msgtype == "text" or bool(message.mobiles) or message.at_all
        if as_text:
            mentioned = list(message.user_ids) + (["@all"] if message.at_all else [])

            def build_text(lines: list[str]) -> str:
                return plain_text("\n".join([message.title, *lines]))

            lines = fit_lines(message.lines, lambda ls: len(build_text(ls).encode()), TEXT_MAX_BYTES, marker)
            text: dict[str, object] = {"content": build_text(lines)}
            if mentioned:
                text["mentioned_list"] = mentioned
            if message.mobiles:
                text["mentioned_mobile_list"] = list(message.mobiles)
            return Payload(body={"msgtype": "text", "text": text})
        mentions = "".join(f"<@{user}>" for user in message.user_ids)
        if message.actions and not mentions:
            return Payload(body=template_card(message))

        def build(lines: list[str]) -> str:
            shown = [markdown_subset(line) for line in lines]
            return "\n".join([f"**{message.title}**", *shown] + ([mentions] if mentions else []))

        lines = fit_lines(message.lines, lambda ls: len(build(ls).encode()), MARKDOWN_MAX_BYTES, marker)
        return Payload(body={"msgtype": "markdown", "markdown": {"content": build(lines)}})

    def send(self, payload: Payload) -> str:
        reply = post_json(self.options.url, json_bytes(payload.body), payload.headers, self.options.timeout, f"wecom {self.name}")
        return self.check_code(reply, "errcode")
