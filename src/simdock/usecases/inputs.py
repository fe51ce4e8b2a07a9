"""A job's input files and configuration documents: where they go, and checking them.

A client asks where to put a file (:meth:`Inputs.upload_target`) and then sends its bytes
there: to the blob store directly where it gives upload links (S3), else through
simdock (:meth:`Inputs.receive_upload`), which checks an input archive before keeping it,
down to what each entry really unpacks to.
The key of every file is made here from the job's id, so nothing a client sends
decides where bytes are written. Runs are added only once the job's input archives
are there and sound (:meth:`Inputs.check_inputs`), since a store that takes uploads directly
cannot check them on arrival; unpacking for a run checks every entry's bytes again.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from simdock import blob_keys
from simdock.domain import Job
from simdock.domain.archives import archive_digest, check_archive, verify_archive
from simdock.errors import NotFound, TooLarge, ValidationError
from simdock.limits import Limits
from simdock.ports import BlobStore
from simdock.scope import UnitsOfWork
from simdock.usecases.access import load_job, load_run

#: The name of a job's input archive among its input files.
INPUT_ARCHIVE = blob_keys.INPUT_ARCHIVE
#: How many archives' content digests a process keeps.
KEPT_DIGESTS = 256


class UploadKind(StrEnum):
    """What a client uploads for a job."""

    #: The archive its runs execute with (a FRED model: main.fred and reference files).
    INPUT = "input"
    #: The client's own record of the job, kept for it.
    JOB_CONFIG = "job-config"
    #: The client's own record of one run of the job.
    RUN_CONFIG = "run-config"


@dataclass(frozen=True)
class UploadTarget:
    """Where one upload goes: its blob key, and whether it is an input archive (checked)."""

    key: str
    job_id: str
    owner_id: str
    archive: bool = False


@dataclass(frozen=True)
class Inputs:
    """A job's input archives: where they are uploaded, checked, and fetched for its runs."""

    uow: UnitsOfWork
    blobs: BlobStore
    limits: Limits
    #: What archives hold, by the digest of their bytes (at most KEPT_DIGESTS of them).
    archive_digests: dict[str, str] = field(default_factory=dict, init=False, repr=False,
                                            compare=False)

    def upload_target(self, job: str | int, owner_id: str, kind: UploadKind,
                      run: str | int | None = None) -> UploadTarget:
        """Where to upload ``kind`` for the job (and ``run``, for a run's configuration).

        An input archive becomes one of the job's input files now: its runs will execute
        with whatever was last uploaded there.
        """
        with self.uow() as uow:
            found = load_job(uow, job, owner_id)
            if kind is UploadKind.RUN_CONFIG:
                if run is None:
                    raise ValidationError("a run's configuration needs the run it belongs to")
                target_run = load_run(uow, run, owner_id)
                if target_run.job_id != found.id:
                    raise NotFound("run", run)
                key = blob_keys.run_config(found.id, target_run.id)
            elif kind is UploadKind.JOB_CONFIG:
                key = blob_keys.job_config(found.id)
            else:
                key = blob_keys.job_inputs(found.id)
                if found.input_files.get(INPUT_ARCHIVE) != key:
                    found.input_files = {**found.input_files, INPUT_ARCHIVE: key}
                    uow.jobs.update(found)
                    uow.commit()
        return UploadTarget(key, found.id, found.owner_id, archive=kind is UploadKind.INPUT)

    def receive_upload(self, target: UploadTarget, source: Path) -> int:
        """Keep the uploaded file ``source`` under its target; an input archive is checked
        first and refused (nothing kept, what was there before stays) if it is not sound.
        Returns its size."""
        size = source.stat().st_size
        if target.archive:
            self._check_archive_file(source, INPUT_ARCHIVE, contents=True)
        elif size > self.limits.archives.max_bytes:
            raise TooLarge(f"uploads are at most {self.limits.archives.max_bytes} bytes, "
                           f"got {size}")
        return self.blobs.put_file(target.key, source)

    def check_inputs(self, job: Job) -> dict[str, str]:
        """Refuse (ValidationError) while one of the job's input files is missing or an input
        archive is not sound, naming it: runs would only fail on it. One this process
        received was checked in full then; one a client put straight into the store (S3) is
        fetched and checked in full here, down to what each entry really unpacks to.

        Returns the digest of each input file, by name (:meth:`_digest`): part of its runs'
        identities
        (:mod:`simdock.domain.run_identity`), so that a run on other inputs is another run.
        """
        digests = {}
        for name, key in sorted(job.input_files.items()):
            archive = name.endswith(".zip")
            local = self.blobs.local_path(key)
            if local is not None:
                if not local.is_file():
                    raise _missing(name, job)
                if archive:
                    self._check_archive_file(local, name)
                digests[name] = self._digest(name, local)
                continue
            with tempfile.TemporaryDirectory(prefix="simdock-inputs-") as scratch:
                copy = Path(scratch) / name
                try:
                    self._copy(key, copy)
                except NotFound:
                    raise _missing(name, job) from None
                if archive:
                    self._check_archive_file(copy, name, contents=True)
                digests[name] = self._digest(name, copy)
        return digests

    def fetch_inputs(self, job: Job, destination: Path) -> dict[str, str]:
        """Copy the job's input files into ``destination``; returns the digest of each, by
        name (:meth:`_digest`): what the run executes with, which may be newer than what it
        was added with."""
        digests = {}
        for name, key in sorted(job.input_files.items()):
            target = destination / name
            local = self.blobs.local_path(key)
            if local is not None and local.is_file():
                shutil.copyfile(local, target)
            else:
                self._copy(key, target)
            digests[name] = self._digest(name, target)
        return digests

    def _digest(self, name: str, path: Path) -> str:
        """What identifies an input file in its runs' identities: the digest of what an
        archive holds (:func:`~simdock.domain.archives.archive_digest`: zipping the same
        files again changes nothing), of any other file its bytes. An archive's is kept by
        the digest of its bytes, so a job's runs unpack it once for all of them."""
        raw = file_digest(path)
        if not name.endswith(".zip"):
            return raw
        known = self.archive_digests.get(raw)
        if known is None:
            try:
                known = archive_digest(path, name, self.limits.archives)
            except ValidationError:  # refused when it was checked: the run fails on it
                return raw
            if len(self.archive_digests) >= KEPT_DIGESTS:
                self.archive_digests.pop(next(iter(self.archive_digests)))
            self.archive_digests[raw] = known
        return known

    def _copy(self, key: str, target: Path) -> None:
        with target.open("wb") as out:
            for chunk in self.blobs.open(key):
                out.write(chunk)

    def _check_archive_file(self, path: Path, name: str, contents: bool = False
                            ) -> None:
        """Refuse an archive too large, or unsound by its directory; with ``contents``, also
        one whose entries hold other than they declare (each decompressed and counted)."""
        limits = self.limits.archives
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise TooLarge(f"{name} is {size} bytes; at most {limits.max_bytes} are accepted")
        (verify_archive if contents else check_archive)(path, name, limits)


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hexadecimal."""
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


def _missing(name: str, job: Job) -> ValidationError:
    return ValidationError(f"{name} of job {job.number or job.id} was never uploaded: "
                           "upload it before adding runs")
