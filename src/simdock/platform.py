"""The wiring use cases are bound to: the ports, and the limits the core enforces."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

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
from simdock.usecases.queries import Queries
from simdock.usecases.recording import Recording
from simdock.usecases.reports import Reporting
from simdock.usecases.retry import Retrying
from simdock.usecases.submit import Submitting
from simdock.usecases.users import Users
from simdock.usecases.worker_loop import PlatformWork


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

    # The use cases: each group bound once, on first use, to the ports it names.

    @cached_property
    def health(self) -> Health:
        """Whether the platform's backing services answer."""
        return Health(uow=self.units, blobs=self.blobs, dispatcher=self.dispatcher,
                      services=self.services)

    @cached_property
    def cancelling(self) -> Cancelling:
        """Cancelling work that has not finished."""
        return Cancelling(uow=self.units, clock=self.clock, stops=self.stops)

    @cached_property
    def retrying(self) -> Retrying:
        """Retrying runs that failed or were cancelled: the same run, queued again."""
        return Retrying(uow=self.units, clock=self.clock)

    @cached_property
    def metrics(self) -> Metrics:
        """Metric series of runs (convergence: a loss over steps)."""
        return Metrics(uow=self.units, clock=self.clock)

    @cached_property
    def users(self) -> Users:
        """Users: the owners of jobs, found by their email address however it is spelled."""
        return Users(uow=self.units, clock=self.clock, ids=self.ids)

    @cached_property
    def leftovers(self) -> Leftovers:
        """Whether attempts at runs are over for good, for what they left outside the store."""
        return Leftovers(autocommit_uow=self.autocommit_uow, store=self.store)

    @cached_property
    def machines(self) -> Machines:
        """Registering machines, changing their status, placing runs on them."""
        return Machines(uow=self.units, clock=self.clock, ids=self.ids)

    @cached_property
    def queries(self) -> Queries:
        """Reading jobs, runs and what they recorded, as their owners may see them."""
        return Queries(
            uow=self.units, blobs=self.blobs, payloads=self.payloads,
            specs=self.specs)

    @cached_property
    def listing(self) -> Listing:
        """Runs as views show them: each with its job, parameters, resources and machine."""
        return Listing(machines=self.machines, payloads=self.payloads, queries=self.queries)

    @cached_property
    def archives(self) -> Archives:
        """Results archives of runs: one zip of what each run left, made once and kept."""
        return Archives(
            uow=self.units, blobs=self.blobs, clock=self.clock, limits=self.limits,
            queries=self.queries)

    @cached_property
    def inputs(self) -> Inputs:
        """A job's input archives: where they are uploaded, checked, and fetched for its runs."""
        return Inputs(uow=self.units, blobs=self.blobs, limits=self.limits)

    @cached_property
    def submitting(self) -> Submitting:
        """Submitting work: one run or a sweep, checked, stored and queued in one transaction."""
        return Submitting(
            uow=self.units, clock=self.clock, executor=self.executor, ids=self.ids,
            limits=self.limits, payloads=self.payloads, specs=self.specs)

    @cached_property
    def reporting(self) -> Reporting:
        """Reports over the results of finished jobs: requested, generated, read."""
        return Reporting(
            uow=self.units, blobs=self.blobs, clock=self.clock, ids=self.ids,
            payloads=self.payloads, queries=self.queries, reports=self.reports)

    @cached_property
    def auth(self) -> Auth:
        """Accounts and credentials: registering, logging in, authenticating, API tokens."""
        return Auth(
            uow=self.units, access_tokens=self.access_tokens, clock=self.clock,
            credentials=self.credentials, ids=self.ids, limits=self.limits)

    @cached_property
    def jobs(self) -> Jobs:
        """Changing and deleting jobs."""
        return Jobs(
            uow=self.units, blobs=self.blobs, clock=self.clock,
            machines=self.machines, specs=self.specs, stops=self.stops)

    @cached_property
    def open_jobs(self) -> OpenJobs:
        """Epistemix jobs, registered first and given runs later: each addition one transaction."""
        return OpenJobs(
            uow=self.units, clock=self.clock, executor=self.executor, ids=self.ids,
            inputs=self.inputs, limits=self.limits, payloads=self.payloads)

    @cached_property
    def recording(self) -> Recording:
        """What runs executing report, recorded: the channels handed to handlers."""
        return Recording(uow=self.units, clock=self.clock, limits=self.limits,
                         blobs=self.blobs, inputs=self.inputs)

    def work(self, execution: Execution) -> PlatformWork:
        """The execution side's use cases, bound to this wiring and to ``execution``: what
        the composition root binds the dispatcher to (once per process)."""
        leases = Leases(uow=self.units, clock=self.clock, limits=self.limits,
                        execution=execution)
        executing = Executing(
            uow=self.units, archives=self.archives, blobs=self.blobs, clock=self.clock,
            execution=execution, executor=self.executor, leases=leases, limits=self.limits,
            payloads=self.payloads, queries=self.queries, recording=self.recording,
            simulations=self.simulations)
        return PlatformWork(uow=self.units, clock=self.clock, execution=execution,
                            executing=executing, leases=leases, reporting=self.reporting)
