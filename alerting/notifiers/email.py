"""E-mail for managers: SMTP (plain, STARTTLS or TLS), one mail per message.

Messages about one fault form one thread: the first carries ``Message-ID: <fault@yunwei>``,
later ones ``In-Reply-To``/``References`` to it, so a mail client shows the recovery under the
alert. Success is the server accepting the mail for at least one recipient.

Sample config::

    channels:
      managers:
        type: email
        host: smtp.example.gov.cn
        port: 465
        security: ssl
        username: yunwei@example.gov.cn
        password: ${env:SMTP_PASSWORD}
        sender: yunwei@example.gov.cn
        to: [manager@example.gov.cn]
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Literal

from pydantic import Field

from alerting.notifiers.base import (
    ChannelBase,
    DeliveryError,
    Message,
    Notifier,
    OptionalSecret,
    Payload,
    plain_text,
    register_notifier,
)
from core.deadline import Deadline


class EmailChannel(ChannelBase):
    type: Literal["email"]
    host: str
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password: OptionalSecret = None
    sender: str = Field(description="From: address")
    to: list[str] = Field(min_length=1)
    domain: str = Field("yunwei", description="right-hand side of Message-IDs")

    def missing(self) -> str | None:
        return "its host is empty" if not self.host.strip() else None


@register_notifier
class EmailNotifier(Notifier):
    type = "email"
    Options = EmailChannel
    default_rate_per_minute = 30

    def render(self, message: Message) -> Payload:
        domain = self.options.domain
        thread = message.thread or message.key
        body: dict[str, object] = {
            "subject": message.title,
            "text": plain_text("\n".join([message.title, "", *message.lines])) + "\n",
            "message_id": f"<{thread}@{domain}>" if message.starts_thread else f"<{thread}.{message.key}@{domain}>",
            "in_reply_to": None if message.starts_thread or not message.thread else f"<{message.thread}@{domain}>",
            "to": list(self.options.to),
            "sender": self.options.sender,
        }
        return Payload(body=body)

    def build(self, payload: Payload) -> EmailMessage:
        body = payload.body
        mail = EmailMessage()
        mail["Subject"] = str(body["subject"])
        mail["From"] = str(body["sender"])
        mail["To"] = ", ".join(body["to"])
        mail["Date"] = formatdate(self.clock(), localtime=False)
        mail["Message-ID"] = str(body["message_id"])
        if body.get("in_reply_to"):
            mail["In-Reply-To"] = str(body["in_reply_to"])
            mail["References"] = str(body["in_reply_to"])
        mail.set_content(str(body["text"]))
        return mail

    def send(self, payload: Payload) -> str:
        """Deliver within ``timeout`` seconds in total (greeting, TLS, login and the message)."""
        options = self.options
        mail = self.build(payload)
        late = f"email {self.name}: no answer within {options.timeout:g} s (the deadline of the whole delivery)"
        with Deadline(options.timeout) as deadline:
            try:
                if options.security == "ssl":
                    client: smtplib.SMTP = _watched(smtplib.SMTP_SSL, deadline)(
                        options.host, options.port, timeout=deadline.remaining(), context=ssl.create_default_context()
                    )
                else:
                    client = _watched(smtplib.SMTP, deadline)(options.host, options.port, timeout=deadline.remaining())
                with client:
                    if options.security == "starttls":
                        client.starttls(context=ssl.create_default_context())
                    if options.username and options.password is not None:
                        client.login(options.username, options.password.get_secret_value())
                    refused = client.send_message(mail)
            except smtplib.SMTPRecipientsRefused as exc:
                raise DeliveryError(f"email {self.name}: every recipient refused: {sorted(exc.recipients)}") from None
            except smtplib.SMTPResponseException as exc:
                if deadline.expired:
                    raise DeliveryError(late) from None
                text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
                raise DeliveryError(f"email {self.name}: SMTP {exc.smtp_code} {text}", throttled=exc.smtp_code == 421) from None
            except (smtplib.SMTPException, OSError) as exc:
                if deadline.expired:
                    raise DeliveryError(late) from None
                raise DeliveryError(f"email {self.name}: {type(exc).__name__}: {exc}") from None
        accepted = len(payload.body["to"]) - len(refused)
        return f"accepted for {accepted} recipient(s)" + (f", refused {sorted(refused)}" if refused else "")


def _watched(base: type[smtplib.SMTP], deadline: Deadline) -> type[smtplib.SMTP]:
    """``base`` whose socket ``deadline`` shuts down when the delivery's time is up."""

    class Watched(base):  # type: ignore[valid-type, misc]
        def _get_socket(self, host: str, port: int, timeout: float) -> Any:
            deadline.watch(self)  # its sock at expiry: the plain one, or the TLS one after STARTTLS
            return super()._get_socket(host, port, timeout)

    return Watched
