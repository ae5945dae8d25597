"""A backup checked by a probe, as ledger evidence (``yunwei record backup --verify PATH``).

The file (or the newest file of a directory) must exist, be younger than ``max_age_hours`` and
read back whole: archives are walked member by member (tar, tar.gz/bz2/xz, zip with its CRCs),
compressed files decompressed to the end (gz, bz2, xz), anything else read through. The outcome is
the record's ``result``: ``ok``, ``missed`` (no backup, or none recent enough) or
``not_restorable`` (empty, truncated or corrupt), with the file, its size, time and SHA-256 and,
when not ok, the error. A bad backup is a finding, not an input error.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import tarfile
import zipfile
from pathlib import Path
from typing import Any

from core.timefmt import to_iso

CHUNK = 1 << 20
STREAMS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _newest(directory: Path) -> Path | None:
    files = [p for p in directory.iterdir() if p.is_file()]
    return max(files, key=lambda p: (p.stat().st_mtime, p.name)) if files else None


def _read_through(handle: Any) -> None:
    while handle.read(CHUNK):
        pass


def _check_content(path: Path) -> None:
    """Raise (OSError, EOFError, tarfile/zipfile/lzma errors) when the file does not read back whole."""
    name = path.name.lower()
    if name.endswith(".zip") and not zipfile.is_zipfile(path):
        raise zipfile.BadZipFile("not a zip archive (truncated?)")
    if name.endswith(".tar") and not tarfile.is_tarfile(path):
        raise tarfile.ReadError("not a tar archive (truncated?)")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise zipfile.BadZipFile(f"bad CRC in member {bad}")
        return
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            for member in archive:
                if member.isfile():
                    handle = archive.extractfile(member)
                    if handle is not None:
                        _read_through(handle)
        return
    opener = STREAMS.get(path.suffix.lower())
    if opener is not None:
        with opener(path, "rb") as handle:
            _read_through(handle)
        return
    with open(path, "rb") as handle:
        _read_through(handle)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_backup(path: Path, now: float, max_age_hours: float, tz: str) -> dict[str, Any]:
    """The fields of a ``backup`` record for the backup at ``path`` (a file, or a directory's newest file)."""
    fields: dict[str, Any] = {"checked_by": "probe", "evidence": str(path)}
    target: Path | None = path
    if path.is_dir():
        target = _newest(path)
        if target is None:
            return {**fields, "result": "missed", "error": "no backup file in the directory"}
    if target is None or not target.is_file():
        return {**fields, "result": "missed", "error": "file not found"}
    stat = target.stat()
    fields.update({"evidence": str(target), "size": stat.st_size, "modified": to_iso(float(int(stat.st_mtime)), tz)})
    age_hours = (now - stat.st_mtime) / 3600
    if age_hours > max_age_hours:
        return {**fields, "result": "missed",
                "error": f"latest backup is {age_hours:.1f} h old (more than {max_age_hours:g} h)"}
    if stat.st_size == 0:
        return {**fields, "result": "not_restorable", "error": "empty file"}
    try:
        _check_content(target)
        fields["sha256"] = _sha256(target)
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, lzma.LZMAError, ValueError) as exc:
        return {**fields, "result": "not_restorable", "error": f"does not read back: {exc or type(exc).__name__}"}
    return {**fields, "result": "ok"}
