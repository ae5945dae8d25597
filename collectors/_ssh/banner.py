"""Connecting to an SSH server within bounds, before paramiko takes the socket over.

paramiko reads the server's banner a line at a time with no limit on a line's length, the
line rebuilt on every 128-byte read, until its negotiation timeout: a server that sends an
endless line costs memory and CPU for the whole timeout (measured: 10 s and ~11 MB with
``timeout: 10``), and every such server, or one that trickles, ends in netmiko's unhelpful
``No existing session``. So yunwei connects the socket itself and waits, within the
login's deadline, until the identification line (``SSH-2.0-...``, RFC 4253 §4.2) has fully
arrived within ``MAX_BANNER`` bytes; only then does paramiko get the socket, positioned at
that line. The deadline (core.deadline) shuts the socket down when the whole login, key
exchange and authentication included, takes longer. Trust on first use fetches a host key the
same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import time
from pathlib import Path
from typing import Any

from core.deadline import Deadline

MAX_BANNER = 8 * 1024  # text a server may send before its identification line
MAX_IDENTIFICATION = 255  # RFC 4253 §4.2: the identification line, CR LF included
_PEEK_PAUSE = 0.05
_known_hosts_lock = threading.Lock()


class BannerError(Exception):
    """The server's banner broke a bound, or the server closed before identifying itself."""


def connect(host: str, port: int, deadline: Deadline) -> socket.socket:
    """A connected socket whose next bytes are the server's identification line."""
    sock = socket.create_connection((host, port), timeout=deadline.remaining())
    deadline.watch(sock)
    try:
        skip = _identification_offset(sock, deadline)
        while skip > 0:  # the lines before it are buffered already: consume exactly those
            skip -= len(sock.recv(skip))
        sock.settimeout(deadline.remaining())
    except BaseException:
        sock.close()
        raise
    return sock


def _identification_offset(sock: socket.socket, deadline: Deadline) -> int:
    """Bytes before the identification line, once that whole line has arrived (peeked, not read)."""
    while True:
        if deadline.expired:
            raise TimeoutError("no SSH banner within the deadline")
        sock.settimeout(deadline.remaining())
        seen = sock.recv(MAX_BANNER + MAX_IDENTIFICATION, socket.MSG_PEEK)
        if not seen:
            if deadline.expired:
                raise TimeoutError("no SSH banner within the deadline")
            raise BannerError("the server closed the connection before its SSH banner")
        if seen.startswith(b"SSH-"):
            start = 0
        else:
            at = seen.find(b"\nSSH-")
            start = at + 1 if at >= 0 else -1
        if start >= 0:
            end = seen.find(b"\n", start)
            if end >= 0 and end - start < MAX_IDENTIFICATION:
                return start
            if end >= 0 or len(seen) - start >= MAX_IDENTIFICATION:
                raise BannerError(f"the SSH identification line is longer than {MAX_IDENTIFICATION} bytes")
        elif len(seen) >= MAX_BANNER:
            raise BannerError(f"no SSH identification in the first {MAX_BANNER // 1024} KiB the server sent")
        # MSG_PEEK returns at once what is buffered: wait a little for more instead of spinning
        with contextlib.suppress(OSError):
            time.sleep(min(_PEEK_PAUSE, deadline.remaining()))


def fingerprint(key: Any) -> str:
    """OpenSSH style ``SHA256:...`` fingerprint of a paramiko key."""
    import base64

    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def host_key_name(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def learn_host_key(host: str, port: int, path: Path, timeout: float, deadline: Deadline) -> str | None:
    """Trust on first use: when ``path`` has no key for the host, fetch its key and add it.

    Returns the fingerprint of a key that was added, None when the host was known already.
    """
    import paramiko

    name = host_key_name(host, port)
    with _known_hosts_lock:
        keys = paramiko.HostKeys()
        if path.exists():
            keys.load(str(path))
        if keys.lookup(name):
            return None
        with connect(host, port, deadline) as sock:
            transport = paramiko.Transport(sock)
            try:
                transport.banner_timeout = timeout
                transport.start_client(timeout=timeout)
                key = transport.get_remote_server_key()
            finally:
                transport.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="ascii") as handle:
            handle.write(f"{name} {key.get_name()} {key.get_base64()}\n")
        return fingerprint(key)
