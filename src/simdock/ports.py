"""The ports: what the core needs from the outside world, as protocols.

Adapters implement these; the contract suites in ``tests/contract`` say
what "implements" means. Nothing here knows about any framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    Payload,
    Report,
    ReportStatus,
    Run,
    RunStatus,
    User,
)
from simdock.domain.resources import Resources
from simdock.domain.text import check_text
from simdock.errors import ValidationError

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class PagePosition:
    """Where a page of a listing ended: its last item's sort value and number.

    The next page is found by seeking to this position in the listing's order
    (keyset pagination), so page 2,000 costs what page 1 does; an offset
    would count past every earlier item.
    """

    field: str
    descending: bool
    value: Any
    number: int
    page: int

    def __post_init__(self) -> None:
        kind = ORDER_VALUE_TYPES.get(self.field)
        if kind is None:
            raise ValidationError(f"cannot continue a listing ordered by '{self.field}'")
        if self.value is not None and (isinstance(self.value, bool)
                                       or not isinstance(self.value, kind)):
            raise ValidationError(f"a position in a listing by {self.field} cannot hold "
                                  f"{self.value!r}")
        if isinstance(self.value, datetime) and self.value.tzinfo is None:
            raise ValidationError("a position's time must say its time zone")
        if isinstance(self.number, bool) or not isinstance(self.number, int) \
                or not 0 < self.number < 2**63 or not isinstance(self.page, int) \
                or not 0 < self.page < 2**31:
            raise ValidationError("a position needs a positive item number and page")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and what it takes to find the others."""

    items: list[T]
    total: int
    page: int
    page_size: int
    #: Where the next page starts, when there is one.
    next: PagePosition | None = None

    @property
    def total_pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size if self.total else 0


@dataclass(frozen=True)
class PageRequest:
    """Which page of a listing, checked on creation: by number, or the one after a position."""

    page: int = 1
    page_size: int = 50
    after: PagePosition | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.page, int) or self.page < 1:
            raise ValidationError(f"page must be an integer >= 1, got {self.page!r}")
        if not isinstance(self.page_size, int) or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValidationError(
                f"page size must be an integer between 1 and {MAX_PAGE_SIZE}, "
                f"got {self.page_size!r}"
            )

    @classmethod
    def following(cls, position: PagePosition, page_size: int = 50) -> PageRequest:
        """The page after ``position``."""
        return cls(position.page + 1, page_size, position)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def check_order(self, order: Ordering) -> None:
        """Refuse a position taken from a listing in another order."""
        if self.after is not None and (self.after.field, self.after.descending) != (
                order.field, order.descending):
            raise ValidationError("this cursor belongs to a listing in another order; "
                                  "list again without it")

    def next_position(self, items: Sequence[Any], total: int, order: Ordering
                      ) -> PagePosition | None:
        """Where the page after ``items`` (this page's) starts, if any item is left."""
        last = items[-1] if items else None
        number = getattr(last, "number", None)
        if number is None or self.offset + len(items) >= total:
            return None
        return PagePosition(order.field, order.descending, getattr(last, order.field),
                            int(number), self.page)


RUN_ORDER_FIELDS = frozenset(
    {"created_at", "updated_at", "started_at", "finished_at", "status", "simulation_type",
     "index", "progress"}
)
JOB_ORDER_FIELDS = frozenset({"created_at", "simulation_type", "name", "run_count"})
#: What a listing's sort values are, by field, so a position can be checked before use.
ORDER_VALUE_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "created_at": datetime, "updated_at": datetime, "started_at": datetime,
    "finished_at": datetime, "status": str, "simulation_type": str, "name": str,
    "index": int, "run_count": int, "progress": (int, float),
}


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

    def __post_init__(self) -> None:
        _check_filters(self.owner_id, self.job_id, self.simulation_type, self.tag,
                       self.machine_id)


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
    #: Tags every listed job has (besides ``tag``).
    tags: tuple[str, ...] = ()
    #: Jobs created at or after ``created_from`` and before ``created_before``.
    created_from: datetime | None = None
    created_before: datetime | None = None

    def __post_init__(self) -> None:
        _check_filters(self.owner_id, self.simulation_type, self.tag, self.machine_id,
                       *self.tags)


def _check_filters(*values: str | None) -> None:
    for value in values:
        if value is not None:
            check_text(value, "a filter")


@dataclass(frozen=True)
class RunTally:
    """A job's runs counted by status, and the sum of their progress by status."""

    counts: Mapping[RunStatus, int] = field(default_factory=dict)
    progress: Mapping[RunStatus, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutline:
    """What a job's summary shows of its runs, read without reading the runs whole: their
    ids in index order, when the first started and the last finished, and the error of
    the first run (by index) that has one."""

    ids: Sequence[str] = field(default_factory=list)
    first_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    first_error: str | None = None

    @classmethod
    def of(cls, runs: Sequence[Run]) -> RunOutline:
        """The outline of runs already read (in index order)."""
        ordered = sorted(runs, key=lambda run: run.index)
        return cls(ids=[run.id for run in ordered],
                   first_started_at=min((r.started_at for r in ordered if r.started_at),
                                        default=None),
                   last_finished_at=max((r.finished_at for r in ordered if r.finished_at),
                                        default=None),
                   first_error=next((run.error for run in ordered if run.error), None))


@dataclass(frozen=True)
class RunStatistics:
    """Counts by status and timings over a set of runs."""

    counts: Mapping[RunStatus, int]
    mean_duration_seconds: float | None
    total: int


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
        """Atomically move up to ``limit`` of the job's queued runs, lowest index first, to
        running for ``worker`` (held until ``lease_until``); returns them (fewer, or none,
        when fewer are queued).

        Concurrent claimers never get the same run and never wait on each other's choice
        (SKIP LOCKED where the database has it). The fairness of which job is asked
        for is the caller's (:mod:`simdock.usecases.work`).
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

    def tally_by_job(self, job_ids: Sequence[str]) -> dict[str, RunTally]:
        """Each of these jobs' runs counted by status, with their progress summed by
        status, in one look-up (an empty tally for a job without runs)."""

    def outline(self, job_id: str) -> RunOutline:
        """The outline of a job's runs, without reading them whole (a sweep of 100,000
        runs is summarised in the store)."""

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

    def list(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogLine]:
        """Lines after ``after_seq`` in order."""


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
    login_failures: LoginFailureRepository

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

    def put_stream(self, key: str, chunks: Iterable[bytes],
                   content_type: str = "application/octet-stream") -> int:
        """Store what ``chunks`` yields without holding it all in memory; returns its size.
        Nothing is stored under ``key`` if the chunks fail part way."""

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
        """A URL a client can fetch ``key`` from directly, valid for ``expires_in`` seconds
        (then refused), or None where the store has no such links."""

    def upload_url(self, key: str, expires_in: int) -> str | None:
        """A URL a client can PUT the bytes of ``key`` to directly, valid for ``expires_in``
        seconds, or None where the store has no such links."""

    def local_path(self, key: str) -> Path | None:
        """The file holding ``key`` when the store is a local directory, else None."""

    def check(self) -> None:
        """Raise ServiceUnavailable if the store cannot be reached."""


@dataclass(frozen=True)
class ExecutionTask:
    """What an executor needs to execute one run.

    For a container run: ``image`` (from its simulation type ``container:IMAGE``), the
    ``resources`` it may use, ``environment`` variables to set and ``input_files`` (a
    name in its input directory -> a blob key) to put in place; a handler's run has none.
    """

    run_id: str
    job_id: str
    simulation_type: str
    parameters: Mapping[str, Any]
    attempt: int
    timeout_seconds: float | None
    image: str | None = None
    resources: Resources | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    input_files: Mapping[str, str] = field(default_factory=dict)


class RunContext(Protocol):
    """What a running simulation can report back (see ``simdock.handlers``)."""

    run_id: str
    job_id: str
    #: Which attempt at the run this is (1 for the first).
    attempt: int

    @property
    def workdir(self) -> Path:
        """A scratch directory; files left in it become the run's artifacts."""

    @property
    def inputs(self) -> Path:
        """A directory holding the job's input files (empty when it has none)."""

    def __call__(self, fraction: float) -> None: ...
    def progress(self, fraction: float) -> None: ...
    def log(self, message: str, stream: str = "stdout") -> None: ...
    def metric(self, name: str, value: float, step: int | None = None) -> None: ...
    def artifact(self, name: str, data: bytes | Path, content_type: str | None = None
                 ) -> None: ...
    @property
    def cancelled(self) -> bool: ...
    def cancel(self) -> None: ...


ParameterCheck = Callable[[Mapping[str, Any]], None]


class Executor(Protocol):
    """Executes runs: in this process, in a container, elsewhere."""

    def checker(self, simulation_type: str) -> ParameterCheck | None:
        """How to check one parameter set of ``simulation_type`` before it is queued.

        Raises UnknownSimulationType at once when this type cannot run here; the
        check it returns raises InvalidParameters for a parameter set that cannot.
        Resolved once per submission, called once per run of a sweep; None when
        every parameter set is acceptable (so a sweep's are not even built).
        """

    def simulation_types(self) -> list[str]:
        """The simulation types this executor knows by name."""

    def execute(self, task: ExecutionTask, context: RunContext) -> Any:
        """Execute and return the result (JSON-able, numpy arrays allowed).

        Raises :class:`~simdock.errors.ExecutionError` subclasses for failure,
        timeout and cancellation.
        """


class Work(Protocol):
    """What a dispatcher's workers do, bound to it by the platform (``Platform.start``)."""

    def execute_run(self, run_id: str) -> None:
        """Execute the run a message named (harmless if it was already claimed)."""

    def execute_next(self) -> int:
        """Claim queued runs fairly, execute them and record their outcomes; how many."""

    def generate_report(self, report_id: str) -> None:
        """Generate the report a message named (harmless if already taken)."""

    def generate_next(self) -> bool:
        """Generate one queued report, if there is one."""

    def heartbeat(self) -> None:
        """Renew the leases of the runs this process holds, stop those it lost, and take
        back runs whose workers were lost; called every ``Limits.heartbeat_seconds``."""

    def queued_runs(self) -> int:
        """How many runs are queued in the store (a count kept by status: cheap to ask
        every beat), so that idle workers can go and claim them."""

    def waiting_reports(self, older_than_seconds: float) -> list[str]:
        """Reports queued for longer than this (oldest first, a page of them): their
        messages may have been lost, so that idle workers can send them again."""


class Sender(Protocol):
    """The sending side of dispatch, used by use cases (through the unit of work's outbox,
    :mod:`simdock.outbox`): called only after the work was committed."""

    def dispatch_runs(self, run_ids: Sequence[str]) -> None: ...
    def dispatch_report(self, report_id: str) -> None: ...


class Dispatcher(Sender, Protocol):
    """Gets queued work to whoever executes it: this process or workers.

    The sending side (:class:`Sender`) is what submitting processes use; the
    consuming side (``bind``, ``join``, ``close``) is where workers take it.
    Dispatch happens only after the work was committed. A dispatcher either
    hands each dispatched id to ``Work.execute_run`` (a message per run) or
    wakes workers that take queued work from the store with
    ``Work.execute_next``; either way the stored status is the truth, so
    redelivery is harmless and nothing queued is lost when a delivery is.
    """

    def bind(self, work: Work) -> None: ...
    def join(self, timeout: float | None = None) -> bool:
        """Wait until the work dispatched so far is done here; False if it timed out."""

    def close(self) -> None:
        """Stop taking work, and wait a bounded time for the work in hand to be recorded."""

    @property
    def broker(self) -> Any:
        """The message broker work goes through, or None for in-process dispatch."""

    def check(self) -> None:
        """Raise ServiceUnavailable if the broker cannot be reached (nothing to check
        without one)."""


class AccessTokens(Protocol):
    """Short-lived signed access tokens (JWTs) naming a user."""

    def issue(self, user_id: str, now: datetime) -> tuple[str, datetime]:
        """A signed token for ``user_id`` and when it expires."""

    def verify(self, token: str, now: datetime) -> str:
        """The user id a valid token names; AuthenticationFailure otherwise."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds from some fixed point, never going back: for intervals and deadlines."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a manual clock moves on instead)."""


class IdGenerator(Protocol):
    def new(self, prefix: str) -> str:
        """A new unique id such as ``job-0f1ac123456789abc``."""

    def new_many(self, prefix: str, count: int) -> list[str]:
        """``count`` new unique ids at once (a sweep's runs)."""
