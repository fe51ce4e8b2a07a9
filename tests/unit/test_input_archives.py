"""An input archive is checked at upload for what it really holds, not what it says.

A zip's headers declare each entry's size; a crafted one declares little and holds
much (63 KB that unpacks to 64 MB while it declares 1 KB). At upload every entry is
decompressed and counted, never past what it declares (so the work is bounded by
MAX_INPUT_UNPACKED_BYTES), and an archive whose entries hold other than they
declare is refused, nothing stored. Unpacking for a run checks again.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from simdock.domain.archives import (
    ArchiveLimits,
    archive_digest,
    unpack_archive,
    verify_archive,
)
from simdock.errors import ValidationError
from simdock.limits import Limits
from simdock.usecases.inputs import UploadKind
from simdock.usecases.open_jobs import AddRuns, RegisterJob
from tests.unit.fakes import FakeExecutor, make_platform
from tests.zips import declaring, zipped

OWNER = "usr-1"
MIB = 1 << 20
ZEROS = b"\0" * (64 * MIB)
#: 64 MiB of zeros that declare 1,000 bytes; the CRC-32 is the real one.
BOMB = declaring(zipped({"main.fred": b"x = 1\n", "data/zeros.bin": ZEROS}),
                 "data/zeros.bin", size=1_000)


def platform_with_limits(**limits: Any) -> Any:
    return make_platform(FakeExecutor({"fred": lambda p, c: {}}),
                         Limits(progress_interval_seconds=0.0, **limits))


def upload(platform: Any, data: bytes, tmp_path: Path) -> str:
    job = platform.open_jobs.register_job(RegisterJob(owner_id=OWNER, simulation_type="fred"))
    target = platform.inputs.upload_target(job.number, OWNER, UploadKind.INPUT)
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    try:
        platform.inputs.receive_upload(target, path)
    finally:
        path.unlink()
    return target.key


@pytest.mark.parametrize(("data", "words"), [
    (BOMB, ["data/zeros.bin", "more than the 1000 bytes it declares"]),
    # The CRC-32 of the bytes it declares: a reader that stops there finds nothing wrong.
    (declaring(BOMB, "data/zeros.bin", crc=zlib.crc32(ZEROS[:1_000])),
     ["data/zeros.bin", "more than the 1000 bytes it declares"]),
    (declaring(zipped({"main.fred": b"x = 1\n" * 100}), "main.fred", size=60_000),
     ["main.fred", "600 bytes", "declares 60000"]),
    (declaring(zipped({"main.fred": b"x = 1\n"}), "main.fred", crc=12345),
     ["main.fred", "damaged"]),
    (zipped({"main.fred": b"x = 1\n"}, zipfile.ZIP_BZIP2), ["main.fred", "bzip2",
                                                           "stored or deflated"]),
    (zipped({"main.fred": b"x = 1\n"}, zipfile.ZIP_LZMA), ["main.fred", "lzma"]),
    (declaring(zipped({"main.fred": b"x = 1\n"}), "main.fred", flags=1),
     ["main.fred", "encrypted"]),
])
def test_an_archive_that_holds_other_than_it_declares_is_refused_at_upload(
        data: bytes, words: list[str], tmp_path: Path) -> None:
    platform = platform_with_limits()
    with pytest.raises(ValidationError) as refused:
        upload(platform, data, tmp_path)
    assert all(w in str(refused.value) for w in words), str(refused.value)
    assert platform.blobs.list("") == []


def test_the_bomb_is_small_and_declares_little() -> None:
    """The control: what the headers say passes the declared-size check."""
    assert len(BOMB) < 70_000
    with zipfile.ZipFile(io.BytesIO(BOMB)) as archive:
        assert sum(e.file_size for e in archive.infolist()) < 2_000


def test_an_honest_archive_is_kept_and_unpacks(tmp_path: Path) -> None:
    platform = platform_with_limits()
    data = zipped({"main.fred": b"x = 1\n", "data/zeros.bin": b"\0" * MIB, "empty.txt": b"",
                   "dir/": b""})
    key = upload(platform, data, tmp_path)
    assert platform.blobs.get(key) == data
    source = tmp_path / "inputs.zip"
    source.write_bytes(data)
    written = unpack_archive(source, tmp_path / "out", "inputs.zip", ArchiveLimits())
    assert {p.name for p in written} == {"main.fred", "zeros.bin", "empty.txt"}
    assert (tmp_path / "out" / "data" / "zeros.bin").stat().st_size == MIB


def test_an_archive_stored_uncompressed_is_checked_too(tmp_path: Path) -> None:
    platform = platform_with_limits()
    honest = zipped({"main.fred": b"x = 1\n" * 10}, zipfile.ZIP_STORED)
    upload(platform, honest, tmp_path)
    with pytest.raises(ValidationError, match="more than the 6 bytes it declares"):
        upload(platform, declaring(honest, "main.fred", size=6), tmp_path)
    with pytest.raises(ValidationError, match="holds 60 bytes but declares 600"):
        upload(platform, declaring(honest, "main.fred", size=600), tmp_path)


def test_an_entry_is_read_no_further_than_one_byte_past_what_it_declares(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The bomb's 64 MiB are not inflated to find that it lies: the work is bounded by
    what the archive declares, which is bounded by MAX_INPUT_UNPACKED_BYTES."""
    reads: list[int] = []

    class Counted(zipfile.ZipExtFile):
        def read(self, n: int | None = -1) -> bytes:
            data = super().read(n)
            reads.append(len(data))
            return data

    monkeypatch.setattr(zipfile, "ZipExtFile", Counted)
    with pytest.raises(ValidationError, match="more than"):
        verify_archive(io.BytesIO(BOMB), "inputs.zip", ArchiveLimits())
    assert 1_001 <= sum(reads) <= 1_001 + len(b"x = 1\n")


def test_unpacking_for_a_run_checks_again(tmp_path: Path) -> None:
    source = tmp_path / "inputs.zip"
    for data in (BOMB, declaring(BOMB, "data/zeros.bin", crc=zlib.crc32(ZEROS[:1_000]))):
        source.write_bytes(data)
        with pytest.raises(ValidationError, match=r"data/zeros\.bin"):
            unpack_archive(source, tmp_path / "out", "inputs.zip", ArchiveLimits())


def test_an_archive_put_straight_into_the_store_is_checked_when_runs_are_added() -> None:
    """A store that takes uploads itself (S3's pre-signed PUT) never shows simdock the
    bytes: the archive is fetched and checked in full before runs are added."""
    platform = platform_with_limits()
    job = platform.open_jobs.register_job(RegisterJob(owner_id=OWNER, simulation_type="fred"))
    target = platform.inputs.upload_target(job.number, OWNER, UploadKind.INPUT)
    assert platform.blobs.local_path(target.key) is None  # as with S3
    platform.blobs.put(target.key, BOMB, "application/zip")
    with pytest.raises(ValidationError, match="more than the 1000 bytes it declares"):
        platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[{}]))
    assert platform.queries.job_runs(job.id, OWNER) == []
    platform.blobs.put(target.key, zipped({"main.fred": b"x = 1\n"}), "application/zip")
    assert len(platform.open_jobs.add_runs(
        AddRuns(job=job.number, owner_id=OWNER, parameters=[{}]))) == 1


def test_an_archive_s_digest_is_of_the_files_it_holds_not_of_how_they_were_zipped(
        tmp_path: Path) -> None:
    def archive(name: str, entries: list[tuple[str, bytes]], when: tuple[int, ...],
                compression: int = zipfile.ZIP_STORED) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", compression) as out:
            out.writestr(zipfile.ZipInfo("data/", when), b"")  # a directory: no file
            for entry, data in entries:
                out.writestr(zipfile.ZipInfo(entry, when), data)
        return path

    files = [("main.fred", b"days = 10\n"), ("data/pop.txt", b"1 2 3\n")]
    limits = ArchiveLimits()
    first = archive_digest(archive("a.zip", files, (2024, 1, 1, 0, 0, 0)), "a.zip", limits)
    again = archive_digest(archive("b.zip", files[::-1], (2025, 2, 3, 4, 5, 6),
                                   zipfile.ZIP_DEFLATED), "b.zip", limits)
    edited = archive_digest(archive("c.zip", [files[0], ("data/pop.txt", b"1 2 4\n")],
                                    (2024, 1, 1, 0, 0, 0)), "c.zip", limits)
    renamed = archive_digest(archive("d.zip", [files[0], ("data/pop2.txt", b"1 2 3\n")],
                                     (2024, 1, 1, 0, 0, 0)), "d.zip", limits)
    assert first == again
    assert len({first, edited, renamed}) == 3
