"""Zip archives in and out of runs: a job's input archive, a run's results archive.

An input archive comes from a client, so nothing in it is trusted: it is checked
before anything is unpacked (a zip at all, entries that stay inside the directory
they are unpacked into, no links, a bounded number of entries and unpacked size),
and unpacking writes only the checked entries, never more bytes than they claimed.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from simdock.errors import ValidationError

COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveLimits:
    """How large an input archive may be, packed and unpacked."""

    max_bytes: int = 512 << 20
    max_unpacked_bytes: int = 2 << 30
    max_entries: int = 10_000


def check_archive(source: Path | IO[bytes], name: str, limits: ArchiveLimits
                  ) -> list[zipfile.ZipInfo]:
    """The entries of the zip archive ``source``, checked; ValidationError naming ``name``
    and what is wrong otherwise."""
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ValidationError(f"{name} is not a zip archive ({exc})") from None
    if len(entries) > limits.max_entries:
        raise ValidationError(f"{name} has {len(entries)} entries; at most "
                              f"{limits.max_entries} are accepted")
    total = 0
    for entry in entries:
        entry_path(entry, name)
        total += entry.file_size
    if total > limits.max_unpacked_bytes:
        raise ValidationError(f"{name} unpacks to {total} bytes; at most "
                              f"{limits.max_unpacked_bytes} are accepted")
    return entries


def entry_path(entry: zipfile.ZipInfo, name: str) -> PurePosixPath:
    """Where an entry unpacks, relative to the directory it unpacks into; refused if it
    would leave it (absolute, ``..``, a drive or backslashes) or is a link."""
    raw = entry.filename
    path = PurePosixPath(raw)
    if (not raw or "\\" in raw or "\x00" in raw or path.is_absolute()
            or ".." in path.parts or (path.parts and ":" in path.parts[0])):
        raise ValidationError(f"{name} has an entry that would leave its directory: {raw!r}")
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise ValidationError(f"{name} has a link among its entries: {raw!r}")
    return path


def unpack_archive(source: Path, destination: Path, name: str, limits: ArchiveLimits
                   ) -> list[Path]:
    """Unpack the checked archive ``source`` into ``destination``; returns the files
    written. An entry that holds more than it declared is refused."""
    entries = check_archive(source, name, limits)
    written: list[Path] = []
    with zipfile.ZipFile(source) as archive:
        for entry in entries:
            target = destination.joinpath(*entry_path(entry, name).parts)
            if entry.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(entry) as src, target.open("wb") as dst:
                _copy_at_most(src, dst, entry.file_size, name, entry.filename)
            written.append(target)
    return written


def _copy_at_most(src: IO[bytes], dst: IO[bytes], size: int, name: str, entry: str) -> None:
    left = size
    while chunk := src.read(min(COPY_CHUNK, left + 1)):
        left -= len(chunk)
        if left < 0:
            raise ValidationError(f"{name}: entry {entry!r} holds more than it declares")
        dst.write(chunk)


def pack_archive(files: Iterable[tuple[str, Iterable[bytes]]], target: IO[bytes]) -> None:
    """Write a deflated zip of ``files`` (entry name, its bytes in chunks) to ``target``."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, chunks in files:
            with archive.open(entry, "w", force_zip64=True) as out:
                for chunk in chunks:
                    out.write(chunk)
