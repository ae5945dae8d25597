"""Chat and mail channels, one module each over one interface (``base.Notifier``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alerting.notifiers.base import Notifier

NOTIFIERS: dict[str, type[Notifier]] = {}


def _load() -> dict[str, type[Notifier]]:
    if not NOTIFIERS:
        from alerting.notifiers.dingtalk import DingTalkNotifier
        from alerting.notifiers.email import EmailNotifier
        from alerting.notifiers.feishu import FeishuNotifier
        from alerting.notifiers.webhook import WebhookNotifier
        from alerting.notifiers.wecom import WeComNotifier

        for cls in (DingTalkNotifier, WeComNotifier, FeishuNotifier, WebhookNotifier, EmailNotifier):
            if cls.type in NOTIFIERS:
                raise RuntimeError(f"two notifiers named {cls.type!r}")
            NOTIFIERS[cls.type] = cls
    return NOTIFIERS


def make_notifier(name: str, options: Any, clock: Callable[[], float] | None = None) -> Notifier:
    """The notifier for a configured channel (``options.type`` picks the module)."""
    cls = _load()[options.type]
    return cls(name, options) if clock is None else cls(name, options, clock)


def notifier_types() -> list[str]:
    return sorted(_load())
