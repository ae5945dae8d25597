"""One agent per data directory: ``yunwei run`` holds an exclusive lock on ``DATA_DIR/agent.lock``.

Two agents writing one store would each record their own run periods and debounce state and
double every sample. The lock is an ``flock``: the kernel releases it when the process ends,
however it ends, so a killed agent never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import InputError

LOCK_NAME = "agent.lock"


def unusable_data_dir(data_dir: Path, exc: BaseException) -> InputError:
    """The one-line error for a data directory that cannot be created, opened or written."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if data_dir.exists() and not data_dir.is_dir():
        reason = "it is a file, not a directory"
    return InputError.single(
        str(data_dir),
        f"cannot use this data directory (agent.data_dir): {reason}; it must be a directory this user can write",
    )


@contextmanager
def agent_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's agent lock; InputError when another process holds it."""
    data_dir = Path(data_dir)
    path = data_dir / LOCK_NAME
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise unusable_data_dir(data_dir, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise InputError.single(
                str(data_dir),
                f"another yunwei agent{who} is already running with this data directory (agent.data_dir); "
                "stop it, or give this agent its own data_dir",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
