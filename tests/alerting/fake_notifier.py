"""A test-only notifier: one module plus its registration, nothing central edited.

It "delivers" by appending the rendered message to a list (``DELIVERED``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from alerting.notifiers.base import ChannelBase, Message, Notifier, Payload, register_notifier

DELIVERED: list[dict[str, object]] = []


class PagerChannel(ChannelBase):
    type: Literal["test_pager"]
    pager: str = Field(pattern=r"^\d{3,8}$", description="the pager number")


@register_notifier
class PagerNotifier(Notifier):
    type = "test_pager"
    Options = PagerChannel

    def render(self, message: Message) -> Payload:
        return Payload(body={"pager": self.options.pager, "title": message.title, "text": "\n".join(message.lines)})

    def send(self, payload: Payload) -> str:
        DELIVERED.append(payload.body)
        return "paged"
