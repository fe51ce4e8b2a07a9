"""The wiring use cases are bound to: the ports, and the limits the core enforces."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, TypeVar, cast

from simdock.clock import SystemClock
from simdock.credentials import CredentialCache
from simdock.execution import Execution
from simdock.handlers import ReportHandlerRegistry, SimulationHandlerRegistry
from simdock.limits import Limits
from simdock.outbox import OutboxUnitOfWork
from simdock.payloads import PayloadStore
from simdock.ports import (
    AccessTokens,
    BlobStore,
    Clock,
    Dispatcher,
    Executor,
    IdGenerator,
    NoRunsHere,
    StopSignals,
)
from simdock.repositories import UnitOfWorkFactory as UnitOfWorkFactory
from simdock.scope import UnitsOfWork
from simdock.specs import SpecCache
from simdock.usecases.archives import Archives
from simdock.usecases.auth import Auth
from simdock.usecases.cancel import Cancelling
from simdock.usecases.execute import Executing
from simdock.usecases.health import Health
from simdock.usecases.inputs import Inputs
from simdock.usecases.jobs import Jobs
from simdock.usecases.leases import Leases
from simdock.usecases.leftovers import Leftovers
from simdock.usecases.listing import Listing
from simdock.usecases.machines import Machines
from simdock.usecases.metrics import Metrics
from simdock.usecases.open_jobs import OpenJobs
from simdock.usecases.operations import Operations
from simdock.usecases.plots import Plots
from simdock.usecases.queries import Queries
from simdock.usecases.recording import Recording
from simdock.usecases.replicating import Replicating
from simdock.usecases.reports import Reporting
from simdock.usecases.results import Results
from simdock.usecases.retry import Retrying
from simdock.usecases.submit import Submitting
from simdock.usecases.users import Users
from simdock.usecases.worker_loop import PlatformWork

#: A use-case group.
G = TypeVar("G")


@dataclass(frozen=True)
class Platform:
    """The wiring every use case is bound to: the ports and the limits, built once by the
    composition root and never copied or changed.

    What this process is executing is not here: that is the execution side's own
    (:class:`simdock.execution.Execution`); the request side reaches it only
    through ``stops``. ``specs`` are the sweep specifications this process read
    last; ``credentials`` who presented which credential lately (kept for no time
    unless configured).
    """

    #: The store's units of work; use cases open theirs through :attr:`units`.
    store: UnitOfWorkFactory
    blobs: BlobStore
    executor: Executor
    dispatcher: Dispatcher
    clock: Clock
    ids: IdGenerator
    simulations: SimulationHandlerRegistry
    reports: ReportHandlerRegistry
    limits: Limits = field(default_factory=Limits)
    access_tokens: AccessTokens | None = None
    #: Units of work whose statements commit one by one (no transaction): for
    #: scopes that only read. None where the store has no such mode.
    autocommit_uow: UnitOfWorkFactory | None = None
    description: str = ""
    #: How cancelling reaches the runs executing in this process.
    stops: StopSignals = field(default_factory=NoRunsHere)
    specs: SpecCache = field(default_factory=SpecCache, repr=False)
    credentials: CredentialCache = field(
        default_factory=lambda: CredentialCache(0.0, SystemClock()), repr=False)
    #: What closing the platform closes, in order (the execution side's drain first).
    on_close: list[Callable[[], None]] = field(default_factory=list)
    #: Services besides the store, blobs and broker that this process relies on (a
    #: container engine where container runs execute), each with its check.
    services: dict[str, Callable[[], None]] = field(default_factory=dict)
    #: The units of work use cases open, shared within a request's scope.
    units: UnitsOfWork = field(init=False, repr=False)
    _closing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "units",
                           UnitsOfWork(self.store, self.dispatcher, self.autocommit_uow))

    def uow(self) -> OutboxUnitOfWork:
        """A unit of work over the store whose dispatches are sent once it commits."""
        return self.units()

    @cached_property
    def payloads(self) -> PayloadStore:
        """Values stored inline or as blobs, by size."""
        return PayloadStore(self.blobs, self.limits.payload_threshold)

    def close(self) -> None:
        """Close what :attr:`on_close` names, in order, once; a failure does not keep the
        rest open (the first is raised once all were closed)."""
        with self._closing:
            closing, self.on_close[:] = list(self.on_close), []
        failure: BaseException | None = None
        for close in closing:
            try:
                close()
            except BaseException as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    # The use cases: each group bound once, on first use, to the ports it names (bind).

    @cached_property
    def health(self) -> Health:
        """Whether the platform's backing services answer."""
        return self.bind(Health)

    @cached_property
    def plots(self) -> Plots:
        """A job's results aggregated for plotting."""
        return self.bind(Plots)

    @cached_property
    def replicating(self) -> Replicating:
        """Replicated jobs' points: counted as replicates end, batches added as decided."""
        return self.bind(Replicating)

    @cached_property
    def results(self) -> Results:
        """A job's results, row by row (a table of the whole job)."""
        return self.bind(Results)

    @cached_property
    def operations(self) -> Operations:
        """What operators watch: workers, queues, services, machines."""
        return self.bind(Operations)

    @cached_property
    def cancelling(self) -> Cancelling:
        """Cancelling work that has not finished."""
        return self.bind(Cancelling)

    @cached_property
    def retrying(self) -> Retrying:
        """Retrying runs that failed or were cancelled: the same run, queued again."""
        return self.bind(Retrying)

    @cached_property
    def metrics(self) -> Metrics:
        """Metric series of runs (convergence: a loss over steps)."""
        return self.bind(Metrics)

    @cached_property
    def users(self) -> Users:
        """Users: the owners of jobs, found by their email address however it is spelled."""
        return self.bind(Users)

    @cached_property
    def leftovers(self) -> Leftovers:
        """Whether attempts at runs are over for good, for what they left outside the store."""
        return self.bind(Leftovers)

    @cached_property
    def machines(self) -> Machines:
        """Registering machines, changing their status, placing runs on them."""
        return self.bind(Machines)

    @cached_property
    def queries(self) -> Queries:
        """Reading jobs, runs and what they recorded, as their owners may see them."""
        return self.bind(Queries)

    @cached_property
    def listing(self) -> Listing:
        """Runs as views show them: each with its job, parameters, resources and machine."""
        return self.bind(Listing)

    @cached_property
    def archives(self) -> Archives:
        """Results archives of runs: one zip of what each run left, made once and kept."""
        return self.bind(Archives)

    @cached_property
    def inputs(self) -> Inputs:
        """A job's input archives: where they are uploaded, checked, and fetched for its runs."""
        return self.bind(Inputs)

    @cached_property
    def submitting(self) -> Submitting:
        """Submitting work: one run or a sweep, checked, stored and queued in one transaction."""
        return self.bind(Submitting)

    @cached_property
    def reporting(self) -> Reporting:
        """Reports over the results of finished jobs: requested, generated, read."""
        return self.bind(Reporting)

    @cached_property
    def auth(self) -> Auth:
        """Accounts and credentials: registering, logging in, authenticating, API tokens."""
        return self.bind(Auth)

    @cached_property
    def jobs(self) -> Jobs:
        """Changing and deleting jobs."""
        return self.bind(Jobs)

    @cached_property
    def open_jobs(self) -> OpenJobs:
        """Epistemix jobs, registered first and given runs later: each addition one transaction."""
        return self.bind(OpenJobs)

    @cached_property
    def recording(self) -> Recording:
        """What runs executing report, recorded: the channels handed to handlers."""
        return self.bind(Recording)

    def work(self, execution: Execution) -> PlatformWork:
        """The execution side's use cases, bound to this wiring and to ``execution``: what
        the composition root binds the dispatcher to (once per process)."""
        leases = self.bind(Leases, execution=execution)
        executing = self.bind(Executing, execution=execution, leases=leases)
        return self.bind(PlatformWork, execution=execution, executing=executing,
                         leases=leases)

    def bind(self, group: Callable[..., G], **given: object) -> G:
        """``group`` (a use-case group: a dataclass whose fields name what it uses) with
        each field given what ``given`` names, else the wiring's port, limit or group of
        that name (``uow``: the units of work); cosmicpython's ``inject_dependencies``."""
        names = [f.name for f in fields(cast(Any, group)) if f.init]  # not its own state
        return group(**{name: given[name] if name in given
                        else self.units if name == "uow" else getattr(self, name)
                        for name in names})
