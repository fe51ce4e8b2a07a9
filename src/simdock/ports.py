"""The ports: what the core needs from the outside world, as protocols.

Adapters implement these; the contract suites in ``tests/contract`` say
what "implements" means. Nothing here knows about any framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from simdock.domain import (
    ApiToken,
    Artifact,
    Job,
    LogLine,
    Machine,
    MachineStatus,
    MetricPoint,
    Report,
    ReportStatus,
    Run,
    RunStatus,
    User,
)
from simdock.errors import ValidationError

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and what it takes to find the others."""

    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def total_pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size if self.total else 0


@dataclass(frozen=True)
class PageRequest:
    """Which page of a listing, checked on creation."""

    page: int = 1
    page_size: int = 50

    def __post_init__(self) -> None:
        if not isinstance(self.page, int) or self.page < 1:
            raise ValidationError(f"page must be an integer >= 1, got {self.page!r}")
        if not isinstance(self.page_size, int) or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValidationError(
                f"page size must be an integer between 1 and {MAX_PAGE_SIZE}, "
                f"got {self.page_size!r}"
            )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


RUN_ORDER_FIELDS = frozenset(
    {"created_at", "updated_at", "started_at", "finished_at", "status", "simulation_type",
     "index", "progress"}
)
JOB_ORDER_FIELDS = frozenset({"created_at", "simulation_type", "name", "run_count"})


@dataclass(frozen=True)
class Ordering:
    """A sort key and direction; ties are broken by creation order (then id)."""

    field: str = "created_at"
    descending: bool = True

    @classmethod
    def parse(cls, text: str | None, allowed: frozenset[str]) -> Ordering:
        """From ``"created_at"``, ``"-created_at"`` or ``"created_at:desc"``."""
        if not text:
            return cls()
        descending = text.startswith("-") or text.endswith(":desc")
        name = text.lstrip("-+").removesuffix(":desc").removesuffix(":asc")
        if name not in allowed:
            raise ValidationError(
                f"cannot order by '{name}'; expected one of: {', '.join(sorted(allowed))}"
            )
        return cls(name, descending)


@dataclass(frozen=True)
class RunQuery:
    """Filters for listing runs; ``None`` means no filter."""

    owner_id: str | None = None
    job_id: str | None = None
    statuses: frozenset[RunStatus] | None = None
    simulation_type: str | None = None
    tag: str | None = None
    machine_id: str | None = None
    order: Ordering = field(default_factory=Ordering)
    page: PageRequest = field(default_factory=PageRequest)


@dataclass(frozen=True)
class JobQuery:
    """Filters for listing jobs; status is the derived job status."""

    owner_id: str | None = None
    statuses: frozenset[RunStatus] | None = None
    simulation_type: str | None = None
    tag: str | None = None
    machine_id: str | None = None
    order: Ordering = field(default_factory=Ordering)
    page: PageRequest = field(default_factory=PageRequest)


@dataclass(frozen=True)
class RunStatistics:
    """Counts by status and timings over a set of runs."""

    counts: Mapping[RunStatus, int]
    mean_duration_seconds: float | None
    total: int


class JobRepository(Protocol):
    def add(self, job: Job) -> None:
        """Store a new job; assigns ``job.number``."""

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""

    def get_by_number(self, number: int) -> Job | None:
        """The job with this integer number (the Epistemix id), or None."""

    def list(self, query: JobQuery) -> Page[Job]:
        """Jobs matching the query, one page of them."""

    def update(self, job: Job) -> None:
        """Store changed tags, name or metadata."""


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

    def update(self, run: Run) -> None:
        """Store a changed run if nobody changed it since it was read.

        Raises :class:`~simdock.errors.ConcurrencyConflict` when the stored
        version differs from ``run.version``; on success bumps ``run.version``.
        """

    def claim(self, run_id: str, worker: str, now: datetime) -> Run | None:
        """Atomically move a queued run to running for ``worker``.

        Returns the claimed run, or None when it was not queued (already
        claimed, cancelled or finished), so exactly one claimer wins.
        """

    def claim_next(self, worker: str, now: datetime) -> Run | None:
        """Atomically claim the oldest queued run, or None if none is queued.

        Concurrent claimers never get the same run and never wait on each
        other's choice (SKIP LOCKED where the database has it).
        """

    def counts(self, owner_id: str | None = None, job_id: str | None = None
               ) -> dict[RunStatus, int]:
        """How many runs are in each status."""

    def counts_by_job(self, job_ids: Sequence[str]) -> dict[str, dict[RunStatus, int]]:
        """Status counts of the runs of each of these jobs."""

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
        """Store a new user; raises Conflict if the email is taken."""

    def get(self, user_id: str) -> User | None: ...
    def get_by_email(self, email: str) -> User | None: ...


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

    def list(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogLine]:
        """Lines after ``after_seq`` in order."""


class MetricRepository(Protocol):
    def append(self, points: Sequence[MetricPoint]) -> None: ...

    def list(self, run_id: str, name: str | None = None, since_step: int | None = None,
             since: datetime | None = None) -> list[MetricPoint]:
        """Points ordered by (name, step); ``since_step``/``since`` are exclusive."""


class ArtifactRepository(Protocol):
    def add(self, artifact: Artifact) -> None:
        """Record an artifact; a second one with the same name replaces it."""

    def list(self, run_id: str) -> list[Artifact]: ...
    def get(self, run_id: str, name: str) -> Artifact | None: ...


class UnitOfWork(Protocol):
    """One atomic piece of work over all repositories.

    Used as a context manager; changes are kept only if :meth:`commit` is
    called before the block ends, otherwise they are rolled back.
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

    def __enter__(self) -> Self: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...

    def suspend(self) -> None:
        """Roll back what is uncommitted and let others at the store, keeping the
        connection; :meth:`resume` before using the repositories again."""

    def resume(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class BlobStore(Protocol):
    """Bytes by key: large payloads, artifacts, report documents."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream"
            ) -> None: ...

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream"
                 ) -> int:
        """Store a file's content without reading it all into memory; returns its size."""

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; raises NotFound."""

    def open(self, key: str) -> Iterator[bytes]:
        """The bytes under ``key`` in chunks, for streaming; raises NotFound."""

    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None:
        """Remove ``key``; no error if it is absent."""

    def list(self, prefix: str) -> list[str]:
        """Keys that start with ``prefix``, sorted."""

    def url(self, key: str, expires_in: int) -> str | None:
        """A time-limited URL a client can fetch directly, or None if unsupported."""

    def local_path(self, key: str) -> Path | None:
        """The file holding ``key`` when the store is a local directory, else None."""

    def check(self) -> None:
        """Raise ServiceUnavailable if the store cannot be reached."""


@dataclass(frozen=True)
class ExecutionTask:
    """What an executor needs to execute one run."""

    run_id: str
    job_id: str
    simulation_type: str
    parameters: Mapping[str, Any]
    attempt: int
    timeout_seconds: float | None


class RunContext(Protocol):
    """What a running simulation can report back (see ``simdock.handlers``)."""

    run_id: str
    job_id: str

    @property
    def workdir(self) -> Path:
        """A scratch directory; files left in it become the run's artifacts."""

    def __call__(self, fraction: float) -> None: ...
    def progress(self, fraction: float) -> None: ...
    def log(self, message: str, stream: str = "stdout") -> None: ...
    def metric(self, name: str, value: float, step: int | None = None) -> None: ...
    def artifact(self, name: str, data: bytes | Path, content_type: str | None = None
                 ) -> None: ...
    @property
    def cancelled(self) -> bool: ...
    def cancel(self) -> None: ...


class Executor(Protocol):
    """Executes runs: in this process, in a container, elsewhere."""

    def check(self, simulation_type: str, parameters: Mapping[str, Any]) -> None:
        """Raise UnknownSimulationType or InvalidParameters if this cannot run."""

    def simulation_types(self) -> list[str]:
        """The simulation types this executor knows by name."""

    def execute(self, task: ExecutionTask, context: RunContext) -> Any:
        """Execute and return the result (JSON-able, numpy arrays allowed).

        Raises :class:`~simdock.errors.ExecutionError` subclasses for failure,
        timeout and cancellation.
        """


class Dispatcher(Protocol):
    """Gets queued work to whoever executes it: this process or workers.

    Dispatch happens only after the work was committed. Each dispatched id is
    handed to the bound worker function; the worker function is idempotent
    (claiming is atomic), so redelivery is harmless.
    """

    def bind(self, run_worker: Callable[[str], None], report_worker: Callable[[str], None]
             ) -> None: ...
    def dispatch_runs(self, run_ids: Sequence[str]) -> None: ...
    def dispatch_report(self, report_id: str) -> None: ...
    def join(self, timeout: float | None = None) -> bool:
        """Wait until dispatched work is done here; False if it timed out."""

    def close(self) -> None: ...


class AccessTokens(Protocol):
    """Short-lived signed access tokens (JWTs) naming a user."""

    def issue(self, user_id: str, now: datetime) -> tuple[str, datetime]:
        """A signed token for ``user_id`` and when it expires."""

    def verify(self, token: str, now: datetime) -> str:
        """The user id a valid token names; AuthenticationFailure otherwise."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class IdGenerator(Protocol):
    def new(self, prefix: str) -> str:
        """A new unique id such as ``job-0f1ac123456789abc``."""
