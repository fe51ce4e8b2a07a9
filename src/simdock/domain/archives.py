"""Zip archives in and out of runs: a job's input archive, a run's results archive.

An input archive comes from a client, so nothing in it is trusted: it is checked
before anything is unpacked (a zip at all, entries that stay inside the directory
they are unpacked into, no links, stored or deflated and not encrypted, a bounded
number of entries and declared unpacked size). What an entry declares may lie, so
its bytes are counted as they are decompressed, never past one byte more than it
declares: :func:`verify_archive` (at upload) and :func:`unpack_archive` (for a run)
refuse an entry that holds more or fewer bytes than it declares, or whose CRC-32
does not match, and the work of finding out is bounded by the declared total.
"""

from __future__ import annotations

import copy
import hashlib
import stat
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from simdock.errors import ValidationError

COPY_CHUNK = 1 << 20
#: How entries may be compressed: zipfile decompresses these a bounded piece at a time
#: (bzip2 and LZMA inflate whatever they are given at once).
READABLE = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_ENCRYPTED = 0x1


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
        _readable(entry, name)
        total += entry.file_size
    if total > limits.max_unpacked_bytes:
        raise ValidationError(f"{name} unpacks to {total} bytes; at most "
                              f"{limits.max_unpacked_bytes} are accepted")
    return entries


def verify_archive(source: Path | IO[bytes], name: str, limits: ArchiveLimits
                   ) -> list[zipfile.ZipInfo]:
    """:func:`check_archive`, then every entry decompressed and counted: ValidationError
    if one holds other than it declares (a zip bomb that declares little) or is damaged."""
    entries = check_archive(source, name, limits)
    with zipfile.ZipFile(source) as archive:
        for entry in entries:
            for _ in entry_bytes(archive, entry, name):
                pass
    return entries


def archive_digest(source: Path, name: str, limits: ArchiveLimits) -> str:
    """The SHA-256 of what an archive holds, not of its bytes: each file entry's name and
    the SHA-256 of its content, in name order. The same files zipped again (new
    timestamps, another order or compression, as the epx client zips a job's inputs
    afresh at every submission) give the same digest. ValidationError as
    :func:`verify_archive`."""
    entries = check_archive(source, name, limits)
    digest = hashlib.sha256()
    with zipfile.ZipFile(source) as archive:
        for entry in sorted((e for e in entries if not e.is_dir()), key=lambda e: e.filename):
            content = hashlib.sha256()
            for chunk in entry_bytes(archive, entry, name):
                content.update(chunk)
            digest.update(f"{entry.filename}\0{content.hexdigest()}\n".encode())
    return digest.hexdigest()


def entry_bytes(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str
                ) -> Iterator[bytes]:
    """The bytes ``entry`` really holds, in chunks; ValidationError, once they are read, if
    they are more (read no further than one byte past it) or fewer than it declares, or
    fail its CRC-32."""
    probe = copy.copy(entry)
    probe.file_size = entry.file_size + 1  # one byte past what it declares, never more
    probe.CRC = None  # type: ignore[assignment]  # checked here, apart from the size
    count = crc = 0
    try:
        with archive.open(probe) as source:
            while chunk := source.read(COPY_CHUNK):
                count += len(chunk)
                if count > entry.file_size:
                    raise ValidationError(
                        f"{name}: entry {entry.filename!r} holds more than the "
                        f"{entry.file_size} bytes it declares")
                crc = zlib.crc32(chunk, crc)
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError) as exc:
        raise ValidationError(f"{name}: entry {entry.filename!r} is damaged ({exc})") from None
    if count < entry.file_size:
        raise ValidationError(f"{name}: entry {entry.filename!r} holds {count} bytes but "
                              f"declares {entry.file_size}")
    if crc != entry.CRC:
        raise ValidationError(f"{name}: entry {entry.filename!r} is damaged: its bytes do "
                              "not have the CRC-32 it declares")


def _readable(entry: zipfile.ZipInfo, name: str) -> None:
    if entry.flag_bits & _ENCRYPTED:
        raise ValidationError(f"{name}: entry {entry.filename!r} is encrypted; runs read "
                              "their inputs without a password")
    if entry.compress_type not in READABLE:
        method = METHOD_NAMES.get(entry.compress_type, f"method {entry.compress_type}")
        raise ValidationError(f"{name}: entry {entry.filename!r} is compressed with {method}; "
                              "entries are accepted stored or deflated (zip's default)")


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
    written. An entry that holds other than it declares is refused (ValidationError)."""
    entries = check_archive(source, name, limits)
    written: list[Path] = []
    with zipfile.ZipFile(source) as archive:
        for entry in entries:
            target = destination.joinpath(*entry_path(entry, name).parts)
            if entry.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as dst:
                for chunk in entry_bytes(archive, entry, name):
                    dst.write(chunk)
            written.append(target)
    return written


def pack_archive(files: Iterable[tuple[str, Iterable[bytes]]], target: IO[bytes]) -> None:
    """Write a deflated zip of ``files`` (entry name, its bytes in chunks) to ``target``."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, chunks in files:
            with archive.open(entry, "w", force_zip64=True) as out:
                for chunk in chunks:
                    out.write(chunk)
