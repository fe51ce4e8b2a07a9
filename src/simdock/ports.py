"""The ports besides the store's: blobs, executors, dispatch, tokens, time and ids.

The store's are in :mod:`simdock.repositories`. Adapters implement these; the
contract suites in ``tests/contract`` say what "implements" means. Nothing here
knows about any framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from simdock.domain.resources import Resources
from simdock.domain.run_identity import Declared


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

    def declared(self, simulation_type: str) -> Declared:
        """What the handler of ``simulation_type`` declares about its runs: the parameter
        in which they take their random seed (without one they cannot be replicated) and
        the version that names them for reuse (without one they are never reused)."""

    def unseeded(self, simulation_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """A run's parameters without its seed, as its handler reads them: what runs of one
        parameter point share."""

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


class StopSignals(Protocol):
    """How the request side stops runs it cancelled that execute in this process (at once,
    rather than at their next progress report); the execution side implements it."""

    def signal_cancels(self, run_ids: Iterable[str]) -> None:
        """Tell those of ``run_ids`` executing here that they were cancelled."""


class NoRunsHere:
    """The stop signals of a process that executes nothing: there is no one to tell."""

    def signal_cancels(self, run_ids: Iterable[str]) -> None:
        return None


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
