"""One bounded HTTP POST with the standard library (called from a worker thread)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from alerting.notifiers.base import DeliveryError

MAX_REPLY = 64 * 1024


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, what: str) -> tuple[int, bytes]:
    """POST ``body``; returns (status, reply bytes). Network failures raise DeliveryError.

    The URL is never put into an error message: robot URLs carry their access token.
    """
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header("User-Agent", "yunwei-alerting")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked at config load
            return response.status, response.read(MAX_REPLY)
    except urllib.error.HTTPError as exc:
        reply = exc.read(MAX_REPLY) if exc.fp is not None else b""
        raise DeliveryError(
            f"{what}: HTTP {exc.code} {reply[:200].decode('utf-8', 'replace')}".strip(), throttled=exc.code == 429
        ) from None
    except TimeoutError:
        raise DeliveryError(f"{what}: no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise DeliveryError(f"{what}: no answer within {timeout:g} s") from None
        raise DeliveryError(f"{what}: {reason}") from None
    except (OSError, ValueError) as exc:  # connection reset mid-reply, bad status line
        raise DeliveryError(f"{what}: {type(exc).__name__}: {exc}") from None


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
