"""Writing a file the user names without ever leaving it half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.errors import InputError


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Have ``write(temporary_path)`` fill a file beside ``path``, then rename it into place, so
    ``path`` is never half-written. An existing file keeps its mode, owner and group (a config
    installed root:yunwei 0640 stays readable by the service); a new one gets 0666 less the umask.
    A path that cannot be written is an InputError naming it."""
    if path.is_dir():
        raise InputError.single(str(path), "is a directory: give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise InputError.single(str(path), f"cannot write: {exc.strerror or exc}") from None
    os.close(fd)
    try:
        write(tmp)
        if path.exists():
            old = path.stat()
            os.chmod(tmp, old.st_mode & 0o7777)
            with contextlib.suppress(PermissionError):  # only root may give a file away
                os.chown(tmp, old.st_uid, old.st_gid)
        else:
            umask = os.umask(0o022)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(text: str) -> Callable[[str], None]:
    def write(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    return write


