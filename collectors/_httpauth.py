"""HTTP-style authentication for RTSP (and HTTP) clients: Basic and Digest.

Digest follows RFC 2617 / RFC 7616 as RTSP uses it (RFC 2326 §D.2, RFC 7826 §19.1): the
``uri`` is the request URL, ``qop=auth`` with a client nonce when the server offers it, and the
algorithms MD5, MD5-sess, SHA-256 and SHA-256-sess. Parsing takes every ``WWW-Authenticate``
header (cameras often send a Digest and a Basic challenge) and picks the strongest scheme.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field

_PARAM = re.compile(r'\s*([A-Za-z0-9_\-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


@dataclass
class Challenge:
    """One ``WWW-Authenticate`` challenge: scheme (lower case) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def parse_challenges(headers: list[str]) -> list[Challenge]:
    """Every challenge of the given ``WWW-Authenticate`` header values.

    A header may carry one challenge (``Digest realm="x", nonce="y"``); several headers may be
    present. Unknown schemes are kept so the caller can say which ones the device wants.
    """
    challenges = []
    for value in headers:
        value = value.strip()
        if not value:
            continue
        scheme, _, rest = value.partition(" ")
        params: dict[str, str] = {}
        for match in _PARAM.finditer(rest):
            name, raw = match.group(1).lower(), match.group(2)
            if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            params[name] = raw
        challenges.append(Challenge(scheme=scheme.lower(), params=params))
    return challenges


def pick(challenges: list[Challenge], allow_basic: bool = True) -> Challenge | None:
    """The strongest challenge we can answer: Digest (a known algorithm) before Basic."""
    digests = [c for c in challenges if c.scheme == "digest" and _algorithm(c)[0] in _HASHES]
    if digests:
        # SHA-256 before MD5 when a device offers both (RFC 7616 §3.7)
        digests.sort(key=lambda c: 0 if _algorithm(c)[0] == "SHA-256" else 1)
        return digests[0]
    if allow_basic:
        return next((c for c in challenges if c.scheme == "basic"), None)
    return None


def _algorithm(challenge: Challenge) -> tuple[str, bool]:
    name = challenge.params.get("algorithm", "MD5").upper()
    session = name.endswith("-SESS")
    return name.removesuffix("-SESS"), session


def basic_authorization(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def digest_authorization(
    challenge: Challenge,
    method: str,
    uri: str,
    username: str,
    password: str,
    nonce_count: int = 1,
    cnonce: str | None = None,
) -> str:
    """The ``Authorization`` header value answering a Digest challenge."""
    algorithm, session = _algorithm(challenge)
    hash_function = _HASHES[algorithm]

    def h(text: str) -> str:
        return hash_function(text.encode("utf-8")).hexdigest()

    realm = challenge.params.get("realm", "")
    nonce = challenge.params.get("nonce", "")
    qops = [q.strip() for q in challenge.params.get("qop", "").split(",") if q.strip()]
    qop = "auth" if "auth" in qops else None
    cnonce = cnonce or os.urandom(8).hex()
    nc = f"{nonce_count:08x}"
    ha1 = h(f"{username}:{realm}:{password}")
    if session:
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}") if qop else h(f"{ha1}:{nonce}:{ha2}")
    parts = [
        f'username="{_quote(username)}"',
        f'realm="{_quote(realm)}"',
        f'nonce="{_quote(nonce)}"',
        f'uri="{_quote(uri)}"',
        f'response="{response}"',
    ]
    if "algorithm" in challenge.params:
        parts.append(f"algorithm={challenge.params['algorithm']}")
    if "opaque" in challenge.params:
        parts.append(f'opaque="{_quote(challenge.params["opaque"])}"')
    if qop:
        parts += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
    return "Digest " + ", ".join(parts)


def authorization(challenge: Challenge, method: str, uri: str, username: str, password: str) -> str:
    """Answer ``challenge`` (as chosen by ``pick``) for one request."""
    if challenge.scheme == "basic":
        return basic_authorization(username, password)
    return digest_authorization(challenge, method, uri, username, password)


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
