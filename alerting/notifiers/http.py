"""One bounded HTTP POST with the standard library (called from a worker thread).

``timeout`` is a total deadline for the whole request (connect, TLS, sending, the status line,
headers and reply), not a per-read timeout: a robot endpoint that answers one byte every few
seconds would otherwise hold its channel for as long as it likes (core.deadline). The reply is cut
at ``MAX_REPLY`` bytes; http.client itself refuses more than 100 header lines and lines over
64 KiB. urllib's handlers are kept (environment proxies still work).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from alerting.notifiers.base import DeliveryError
from core.deadline import Deadline, watched_opener

MAX_REPLY = 64 * 1024


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, what: str) -> tuple[int, bytes]:
    """POST ``body``; returns (status, reply bytes). Failures, and no complete reply within
    ``timeout`` seconds in total, raise DeliveryError.

    The URL is never put into an error message: robot URLs carry their access token.
    """
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header("User-Agent", "yunwei-alerting")
    for name, value in headers.items():
        request.add_header(name, value)
    late = f"{what}: no answer within {timeout:g} s (the deadline of the whole request)"
    with Deadline(timeout) as deadline:
        try:
            with watched_opener(deadline).open(request, timeout=timeout) as response:
                status, reply = response.status, response.read(MAX_REPLY)
        except urllib.error.HTTPError as exc:
            reply = b""
            if exc.fp is not None:
                try:
                    reply = exc.read(MAX_REPLY)
                except (OSError, http.client.HTTPException):
                    reply = b""
            if deadline.expired:
                raise DeliveryError(late) from None
            raise DeliveryError(
                f"{what}: HTTP {exc.code} {reply[:200].decode('utf-8', 'replace')}".strip(), throttled=exc.code == 429
            ) from None
        except TimeoutError:
            raise DeliveryError(late) from None
        except urllib.error.URLError as exc:
            if deadline.expired or isinstance(exc.reason, TimeoutError):
                raise DeliveryError(late) from None
            raise DeliveryError(f"{what}: {exc.reason}") from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # reset mid-reply, bad status line
            if deadline.expired:
                raise DeliveryError(late) from None
            raise DeliveryError(f"{what}: {type(exc).__name__}: {exc}") from None
        if deadline.expired:  # the reply may have been cut short by the watchdog
            raise DeliveryError(late)
    return status, reply


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float, what: str) -> dict[str, Any]:
    """POST and decode a JSON object reply; anything else is a DeliveryError."""
    status, reply = post(url, body, headers, timeout, what)
    try:
        data = json.loads(reply.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DeliveryError(f"{what}: HTTP {status} with a reply that is not JSON: {reply[:120]!r}") from None
    if not isinstance(data, dict):
        raise DeliveryError(f"{what}: HTTP {status} with a JSON reply that is not an object")
    return data
