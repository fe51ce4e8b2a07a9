"""A run's results bundle: what its last attempt produced, zipped.

One rule for every way a bundle is served (``/api/v1``, the notebook, the
Epistemix dialect):

- Which runs: a run that ran to an end of its own (succeeded or failed), or
  was stopped after it started; what is packed is its last attempt's.
- Which files: the artifacts that attempt kept, under the names its handler
  gave them (a handler decides the layout: FRED's runs name theirs
  ``work/outputs/...``); never an earlier attempt's.

Two packings of it:

- The *attempt archive* (:meth:`Archives.attempt_archive`): exactly those
  files, built once per attempt, on first demand or as the run ends where its
  handler asks for that, and kept in the blob store so that a client can be
  sent straight to it (the Epistemix dialect links to it).
- The *download* (:meth:`Archives.download`, ``GET /api/v1/jobs/{id}/result``
  and ``RunHandle``-style notebook use): the same files under ``artifacts/``,
  beside the run's ``parameters.json``, ``result.json`` and ``logs.txt``; of
  a run that succeeded only, since a failed run's result is an error that says
  why (its logs stay readable on their own).

A stopped run's attempt archive holds what its attempt had left when it was
stopped (its logs so far). The attempt hands those files in after the stop is
committed, so a stopped run's archive is listed once its attempt has built it on
its way out, or once a lease has passed since the stop (its worker is then
presumed gone); a run stopped before it ever started has none.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from simdock import blob_keys, codec
from simdock.codec import JsonText
from simdock.domain import Artifact, Job, Run, RunStatus
from simdock.domain.archives import pack_archive
from simdock.limits import Limits
from simdock.ports import BlobStore, Clock
from simdock.scope import UnitsOfWork
from simdock.tallies import RunLine
from simdock.usecases.access import load_job
from simdock.usecases.queries import Queries

#: Past this size a download is spooled to disk rather than kept in memory.
SPOOL_BYTES = 8 * 1024 * 1024
#: The statuses whose runs have a results archive: they ran to an end of their own, or
#: were stopped.
ARCHIVED_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
#: Those whose archive is there as soon as the run is seen finished (built as the run
#: ends where its handler asks for that, else on first demand).
ENDED_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED})


R = TypeVar("R", bound="Attempted")


@dataclass(frozen=True)
class Archives:
    """Results archives of runs: one zip of what each run left, made once and kept."""

    uow: UnitsOfWork
    blobs: BlobStore
    clock: Clock
    limits: Limits
    queries: Queries

    def attempt_archives(self, job: str | int, owner_id: str | None
                         ) -> list[tuple[Run, str]]:
        """Every run of the job (by id or number) whose archive can be listed, in index order,
        with the blob key of its results archive (built now where it was not yet)."""
        with self.uow() as uow:
            found = load_job(uow, job, owner_id)
            runs = list(uow.runs.for_job(found.id))
        return [(run, self.attempt_archive(run)) for run in self.listed(runs)]

    def listed(self, runs: Sequence[R]) -> list[R]:
        """The runs whose results archive can be listed: those that succeeded or failed
        (nothing is read for them), and the stopped ones whose attempt handed in its files."""
        now = self.clock.now()
        grace = timedelta(seconds=self.limits.lease_seconds)
        return [run for run in runs if run.status in ENDED_STATUSES or (
            run.status is RunStatus.CANCELLED and run.attempts > 0 and (
                self.blobs.exists(archive_key(run))
                or run.finished_at is None or run.finished_at + grace <= now))]

    def attempt_archive(self, run: Attempted) -> str:
        """The blob key of the archive of ``run``'s last attempt, building it if needed."""
        key = archive_key(run)
        if self.blobs.exists(key):
            return key
        kept = self._attempt_artifacts(run)
        with tempfile.TemporaryDirectory(prefix="simdock-archive-") as scratch:
            path = Path(scratch) / "results.zip"
            with path.open("wb") as out:
                pack_archive(((a.name, self.blobs.open(a.blob_key)) for a in kept), out)
            self.blobs.put_file(key, path, "application/zip")
        return key

    def download(self, run_id: str, owner_id: str | None) -> IO[bytes]:
        """The download of a run that succeeded (Conflict otherwise, saying why), as a
        file positioned at its start: spooled to disk past ``SPOOL_BYTES``, so large
        artifacts need not fit in memory."""
        run = self.queries.succeeded_run(run_id, owner_id)
        record = [
            ("result.json", _json(codec.plain(self.queries.run_result(run.id, owner_id)))),
            ("parameters.json", _json(self.queries.run_parameters(run))),
            ("logs.txt", "".join(f"{line.at.isoformat()} [{line.stream}] {line.message}\n"
                                 for line in self.queries.run_logs(run.id, owner_id))),
        ]
        files = [*((f"artifacts/{a.name}", self.blobs.open(a.blob_key))
                   for a in self._attempt_artifacts(run)),
                 *((name, [text.encode()]) for name, text in record)]
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        pack_archive(files, spool)
        spool.seek(0)
        return spool

    def _attempt_artifacts(self, run: Attempted) -> list[Artifact]:
        """The artifacts ``run``'s last attempt kept, by name (a run that reused another,
        never executed, has that run's final ones)."""
        with self.uow() as uow:
            artifacts = uow.artifacts.list(run.id)
        if run.attempts == 0:
            return sorted(artifacts, key=lambda a: a.name)
        prefix = blob_keys.attempt_artifacts(run.id, run.attempts)
        return sorted((a for a in artifacts if a.blob_key.startswith(prefix)),
                      key=lambda a: a.name)

    def archive_links(self, runs: Sequence[Attempted]) -> dict[str, str]:
        """By run id, the key of each listed run's results archive, for a listing to link
        to: nothing is read for runs that succeeded or failed (their archive is built as
        they end where their handler asks for that, else by :meth:`attempt_archives`); a
        stopped run's is built where it is missing, and so is a reused run's (it never
        executed, so nothing built it as it ended)."""
        return {run.id: self.attempt_archive(run) if run.status is RunStatus.CANCELLED
                or (run.status is RunStatus.SUCCEEDED and run.attempts == 0)
                else archive_key(run) for run in self.listed(runs)}

    def runs_with_results(self, job: str | int | None, runs: Sequence[int],
                          owner_id: str | None) -> list[RunWithResults]:
        """The runs of ``job`` (all, or those of ``runs`` by number), or without a job the runs
        of ``runs`` (numbers) that ``owner_id`` may see; each with what
        :class:`RunWithResults` holds (see :meth:`archive_links` for which have an archive).

        Read as lines (:class:`~simdock.tallies.RunLine`), never as whole runs: a job of
        a thousand runs is listed in one statement, its requests sent on still encoded."""
        with self.uow() as uow:
            if job is not None:
                found_job = load_job(uow, job, owner_id)
                wanted = set(runs)
                lines = [line for line in uow.runs.lines(job_id=found_job.id)
                         if not wanted or line.number in wanted]
                jobs = {found_job.id: found_job}
            else:
                lines = [line for line in uow.runs.lines(numbers=runs)
                         if owner_id is None or line.owner_id == owner_id]
                jobs = uow.jobs.get_many(list({line.job_id for line in lines}))
        parameters = self.queries.encoded_parameters(lines)
        keys = self.archive_links(lines)
        return [RunWithResults(line, jobs[line.job_id], sent, keys.get(line.id))
                for line, sent in zip(lines, parameters, strict=True) if line.job_id in jobs]


class Attempted(Protocol):
    """A run as the archive rule reads it (a whole run, or its line)."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> RunStatus: ...
    @property
    def attempts(self) -> int: ...
    @property
    def finished_at(self) -> datetime | None: ...


def archive_key(run: Attempted) -> str:
    """The blob key of the archive of ``run``'s last attempt (which may not be built)."""
    return blob_keys.results_archive(run.id, run.attempts)


@dataclass(frozen=True)
class RunWithResults:
    """A run as a listing of runs and their results shows it: with its job, its
    parameters, and the key of its results archive where it has one to link to."""

    run: RunLine
    job: Job
    #: The parameters the run was asked with, as they were stored (encoded JSON).
    parameters: JsonText
    archive_key: str | None


def _json(value: Any) -> str:
    return json.dumps(value, indent=2)
