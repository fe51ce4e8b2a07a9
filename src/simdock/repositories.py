"""The store's ports: one repository per kind of record, and the unit of work over them.

Adapters implement these; ``tests/contract/test_repositories.py`` says what
"implements" means.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from simdock.domain import (
    ApiToken,
    Artifact,
    Job,
    LogLine,
    Machine,
    MachineStatus,
    MetricPoint,
    Payload,
    Report,
    ReportStatus,
    Run,
    RunAttempt,
    RunStatus,
    User,
)
from simdock.domain.replication import ReplicatePoint
from simdock.domain.run_identity import Reusable
from simdock.domain.worker import WorkerBeat
from simdock.paging import Page, PageRequest
from simdock.selection import JobQuery, RunQuery
from simdock.tallies import RunLine, RunOutline, RunStatistics, RunTally


class JobRepository(Protocol):
    def add(self, job: Job, spec: Payload | None = None) -> None:
        """Store a new job and where its sweep specification is; assigns ``job.number``."""

    def spec(self, job_id: str) -> Payload | None:
        """Where the job's specification (a ``SweepSpec`` record) is stored.

        None for an unknown job, and for jobs stored before specifications were,
        whose runs keep their own parameters.
        """

    def specs(self, job_ids: Sequence[str]) -> dict[str, Payload]:
        """The specifications of these jobs, by id, in one look-up (jobs without one, or
        unknown, are left out)."""

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""

    def get_many(self, job_ids: Sequence[str]) -> dict[str, Job]:
        """These jobs by id, in one look-up (unknown ids are left out): a page of runs
        from many jobs."""

    def get_by_number(self, number: int) -> Job | None:
        """The job with this integer number (the Epistemix id), or None."""

    def list(self, query: JobQuery) -> Page[Job]:
        """Jobs matching the query, one page of them."""

    def update(self, job: Job) -> None:
        """Store changed tags, name, metadata or input files (never its run count)."""

    def reserve_runs(self, job_id: str, count: int) -> int:
        """Add ``count`` to the job's run count, atomically with anyone else doing so;
        returns the first index reserved. Raises NotFound for an unknown job."""

    def delete(self, job_id: str) -> None:
        """Remove the job with its tags, runs and what they recorded (logs, metric
        points, artifact records); the run counts by status follow. Blobs are the
        caller's. Raises NotFound for an unknown job."""


class RunRepository(Protocol):
    def add_many(self, runs: Sequence[Run]) -> None:
        """Store new runs in one go; assigns each ``run.number``."""

    def get(self, run_id: str) -> Run | None:
        """The run with this id, or None."""

    def get_by_number(self, number: int) -> Run | None:
        """The run with this integer number, or None."""

    def get_with_job(self, run_id: str) -> tuple[Run, Job] | None:
        """The run and its job in one look-up (the HTTP status read's hot path)."""

    def for_job(self, job_id: str) -> list[Run]:
        """Every run of a job, in index order."""

    def list(self, query: RunQuery) -> Page[Run]:
        """Runs matching the query, one page of them."""

    def list_with_jobs(self, query: RunQuery) -> tuple[Page[Run], dict[str, Job]]:
        """:meth:`list`'s page, and by id the jobs of its runs, read with it."""

    def update(self, run: Run) -> None:
        """Store a changed run if nobody changed it since it was read.

        Raises :class:`~simdock.errors.ConcurrencyConflict` when the stored
        version differs from ``run.version``; on success bumps ``run.version``.
        """

    def cancel_unfinished(self, now: datetime, reason: str, job_id: str | None = None,
                          run_ids: Sequence[str] | None = None) -> Sequence[str]:
        """Cancel, in one statement, every run of ``job_id`` (or of ``run_ids``) that can be
        cancelled (``CANCELLABLE_RUN_STATUSES``), as ``Run.cancel(now, reason)`` cancels
        one, its version bumped; returns their ids. Runs executing elsewhere learn it
        from their next lease renewal."""

    def claim(self, run_id: str, worker: str, now: datetime,
              lease_until: datetime | None = None) -> Run | None:
        """Atomically move a queued run to running for ``worker``, held until
        ``lease_until``.

        Returns the claimed run, or None when it was not queued (already
        claimed, cancelled or finished), so exactly one claimer wins.
        """

    def next_queued_owner(self, after: str | None = None) -> str | None:
        """The first owner, in id order, after ``after`` (from the first when None) who has
        queued runs; None when there is none after it."""

    def next_queued_job(self, owner_id: str, after: str | None = None) -> str | None:
        """The owner's first job, in id order, after ``after`` that has queued runs."""

    def claim_queued(self, owner_id: str, job_id: str, worker: str, now: datetime,
                     limit: int = 1, lease_until: datetime | None = None) -> Sequence[Run]:
        """Atomically move up to ``limit`` of the job's queued runs, in the order they were
        added (lowest number first: a replicated job's batch together), to running for
        ``worker`` (held until ``lease_until``); returns them (fewer, or none, when fewer
        are queued).

        Concurrent claimers never get the same run and never wait on each other's choice
        (SKIP LOCKED where the database has it). The fairness of which job is asked
        for is the caller's (:mod:`simdock.usecases.worker_loop`).
        """

    def renew(self, worker: str, attempts: Mapping[str, int], until: datetime) -> set[str]:
        """Extend to ``until`` the leases ``worker`` holds: ``attempts`` maps the runs it
        executes to their attempt numbers. Returns the runs still held (running, by this
        worker, at that attempt); any other was cancelled, finished or taken back.

        Renewing changes no version: a renewal never conflicts with the run's own writes,
        and a run's other updates keep the lease stored while it stays running.
        """

    def lapsed(self, now: datetime, limit: int = 100) -> Sequence[Run]:
        """Running runs whose lease ended before ``now``, longest lapsed first; a store may
        leave out those another transaction is changing (they are found at a later call)."""

    def counts(self, owner_id: str | None = None, job_id: str | None = None
               ) -> dict[RunStatus, int]:
        """How many runs are in each status."""

    def reusable(self, owner_id: str, identities: Collection[str]) -> dict[str, Reusable]:
        """By identity, the first succeeded run of ``owner_id``'s with it, for those that
        have one; each is held against deletion until this unit of work ends."""

    def referenced(self, run_ids: Collection[str]) -> set[str]:
        """Those of ``run_ids`` that a stored run is, or reuses (``reused_from``): the runs
        whose blobs are still somebody's."""

    def numeric_results(self, job_id: str, name: str, every: int = 1
                        ) -> Sequence[tuple[int, float]]:
        """(index, value) of the job's succeeded runs whose result, kept inline, is an
        object holding a number under ``name`` (others left out), in index order; only the
        runs whose index is a multiple of ``every`` (a sample of a large sweep)."""

    def attempts(self, run_id: str) -> Sequence[RunAttempt]:
        """Every attempt at the run, first first: the store notes one each time the run
        starts running, and how it ended when it stops (whatever stopped it)."""

    def queued_by_owner(self) -> dict[str, int]:
        """How many runs each owner has queued (owners with none left out), from the
        store's counts, without scanning the queue."""

    def tally_by_job(self, job_ids: Sequence[str]) -> dict[str, RunTally]:
        """Each of these jobs' runs counted by status, with their progress summed by
        status, in one look-up (an empty tally for a job without runs)."""

    def lines(self, job_id: str | None = None, numbers: Sequence[int] = ()
              ) -> Sequence[RunLine]:
        """The lines of a job's runs in index order, or of the runs of ``numbers`` (in that
        order, those that exist): what a listing shows, without reading the runs whole."""

    def outline(self, job_id: str, with_ids: bool = True) -> RunOutline:
        """The outline of a job's runs, without reading them whole (a sweep of 100,000
        runs is summarised in the store); without their ids unless ``with_ids``."""

    def statistics(self, owner_id: str | None = None) -> RunStatistics:
        """Counts by status and the mean duration of finished runs."""


class ReportRepository(Protocol):
    def add(self, report: Report) -> None: ...
    def get(self, report_id: str) -> Report | None: ...
    def list(self, owner_id: str | None, statuses: frozenset[ReportStatus] | None,
             page: PageRequest) -> Page[Report]: ...
    def update(self, report: Report) -> None:
        """Store a changed report; version-guarded like runs."""


class MachineRepository(Protocol):
    def add(self, machine: Machine) -> None: ...
    def get(self, machine_id: str) -> Machine | None: ...
    def list(self, status: MachineStatus | None, page: PageRequest) -> Page[Machine]: ...
    def update(self, machine: Machine) -> None: ...


class UserRepository(Protocol):
    def add(self, user: User) -> None:
        """Store a new user; raises Conflict if its id, ``email_key`` or (non-null)
        ``email_skeleton`` is another user's."""

    def get(self, user_id: str) -> User | None: ...

    def get_by_email_key(self, key: str) -> User | None:
        """The user whose ``email_key`` is ``key`` (see :mod:`simdock.domain.identity`)."""

    def get_by_email_skeleton(self, skeleton: str) -> User | None:
        """The user whose ``email_skeleton`` is ``skeleton``: one the address looks like."""

    def update(self, user: User) -> None:
        """Store a changed name, activity or administrator role; NotFound if unknown."""


class LoginFailureRepository(Protocol):
    """Failed logins by what they are counted against (an account at a client address, an
    account, an address), and the successful logins that make an address known to an
    account."""

    def add(self, key: str, at: datetime) -> None:
        """Record one failure against ``key``."""

    def since(self, key: str, after: datetime) -> list[datetime]:
        """When ``key``'s failures after ``after`` happened, oldest first."""

    def forget(self, key: str, before: datetime | None = None) -> None:
        """Drop ``key``'s failures (only those before ``before``, when given)."""

    def discard(self, key: str, at: datetime) -> None:
        """Drop one failure of ``key`` recorded at ``at`` (an attempt that succeeded)."""

    def remember_success(self, key: str, at: datetime) -> None:
        """Record that ``key`` (an account at an address) logged in at ``at``."""

    def last_success(self, key: str) -> datetime | None:
        """When ``key`` last logged in, or None if it never did (or it was forgotten)."""


class ApiTokenRepository(Protocol):
    def add(self, token: ApiToken) -> None:
        """Store a new token; raises Conflict if its id or hash exists."""

    def get(self, token_id: str) -> ApiToken | None: ...

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token whose secret hashes to ``token_hash``, or None."""

    def get_with_owner(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """The token and its owner in one look-up (authentication's hot path)."""

    def list(self, owner_id: str) -> list[ApiToken]:
        """An owner's tokens, newest first, revoked ones included."""

    def update(self, token: ApiToken) -> None:
        """Store last use or revocation; raises NotFound for an unknown token."""


class LogRepository(Protocol):
    def append(self, run_id: str, messages: Sequence[tuple[datetime, str, str]]) -> list[LogLine]:
        """Append (time, stream, message) lines; returns them numbered."""

    def list(self, run_id: str, after_seq: int = 0, limit: int | None = None,
             containing: str | None = None, through_seq: int | None = None
             ) -> list[LogLine]:
        """Lines after ``after_seq`` (and up to ``through_seq``) in order; with
        ``containing``, only the lines whose message holds that text, whatever its case
        (``%`` and ``_`` are plain text)."""

    def last_seq(self, run_id: str) -> int:
        """The number of the run's last line (0 before its first): lines are numbered from
        1 without gaps, so this is also how many it has."""


class MetricRepository(Protocol):
    def append(self, points: Sequence[MetricPoint]) -> None: ...

    def discard(self, run_ids: Sequence[str]) -> None:
        """Forget every point of these runs (their last attempt is over, the next one
        starts its series afresh)."""

    def list(self, run_id: str, name: str | None = None, since_step: int | None = None,
             since: datetime | None = None) -> list[MetricPoint]:
        """Points ordered by (name, step); ``since_step``/``since`` are exclusive."""


class ArtifactRepository(Protocol):
    def add(self, artifact: Artifact) -> None:
        """Record an artifact; a second one with the same name replaces it."""

    def add_many(self, artifacts: Sequence[Artifact]) -> None:
        """Record artifacts of new runs in one go (a reused run's: the blobs it refers to)."""

    def for_runs(self, run_ids: Collection[str]) -> dict[str, list[Artifact]]:
        """By run id, the artifacts of each of these runs that has any, by name."""

    def list(self, run_id: str) -> list[Artifact]: ...
    def get(self, run_id: str, name: str) -> Artifact | None: ...


class WorkerRepository(Protocol):
    def beat(self, worker: WorkerBeat) -> None:
        """Keep ``worker``'s latest heartbeat (the first one registers it)."""

    def since(self, at: datetime) -> list[WorkerBeat]:
        """The workers whose last heartbeat is at or after ``at``, by name."""

    def forget(self, before: datetime) -> int:
        """Forget the workers silent since before ``before``; returns how many."""


class PointRepository(Protocol):
    """The parameter points of replicated jobs (:class:`ReplicatePoint`)."""

    def add_many(self, points: Sequence[ReplicatePoint]) -> None: ...

    def lock(self, job_id: str, points: Collection[int]) -> dict[int, ReplicatePoint]:
        """These points of the job (those that exist), by number, held by this unit of work
        until it ends, locked in point order in one statement: another unit of work locking
        one waits, then reads what this one committed (the replicates of a point end one
        after another, as far as deciding is concerned)."""

    def update(self, points: Sequence[ReplicatePoint]) -> None:
        """Store these points' counts and decisions (NotFound for one that does not exist)."""

    def list(self, job_id: str) -> list[ReplicatePoint]:
        """The job's points, in point order (none for a job not replicated)."""


class UnitOfWork(abc.ABC):
    """One atomic piece of work over all repositories.

    Used as a context manager; changes are kept only if :meth:`commit` is
    called before the block ends, otherwise they are rolled back. The
    repositories are declared here only: every unit of work (each store
    adapter's, the outbox) subclasses this one.
    """

    jobs: JobRepository
    runs: RunRepository
    reports: ReportRepository
    machines: MachineRepository
    users: UserRepository
    tokens: ApiTokenRepository
    logs: LogRepository
    metrics: MetricRepository
    artifacts: ArtifactRepository
    login_failures: LoginFailureRepository
    workers: WorkerRepository
    points: PointRepository

    @abc.abstractmethod
    def __enter__(self) -> Self: ...

    @abc.abstractmethod
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...

    @abc.abstractmethod
    def suspend(self) -> None:
        """Roll back what is uncommitted and let others at the store, keeping the
        connection; :meth:`resume` before using the repositories again."""

    @abc.abstractmethod
    def resume(self) -> None: ...

    def share_repositories(self, other: UnitOfWork) -> None:
        """Use ``other``'s repositories as this unit of work's own (a wrapper's)."""
        for name in REPOSITORY_NAMES:
            setattr(self, name, getattr(other, name))


#: The names of the repositories every unit of work holds.
REPOSITORY_NAMES: tuple[str, ...] = tuple(
    name for name in UnitOfWork.__annotations__ if not name.startswith("_"))


UnitOfWorkFactory = Callable[[], UnitOfWork]
