"""The wired set of ports every use case receives, and the limits it enforces."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from simdock.clock import SystemClock
from simdock.contact import StoreContact
from simdock.credentials import CredentialCache
from simdock.domain.archives import ArchiveLimits
from simdock.domain.login_throttle import LoginLimits
from simdock.domain.resources import Resources
from simdock.fair_queue import FairQueue
from simdock.handlers import ReportHandlerRegistry, SimulationHandlerRegistry
from simdock.held_runs import HeldRuns
from simdock.outbox import OutboxUnitOfWork
from simdock.payloads import DEFAULT_THRESHOLD, PayloadStore
from simdock.ports import AccessTokens, BlobStore, Clock, Dispatcher, Executor, IdGenerator
from simdock.repositories import UnitOfWorkFactory as UnitOfWorkFactory
from simdock.specs import SpecCache


@dataclass(frozen=True)
class Limits:
    """Limits and intervals the core enforces; read from settings by the composition root."""

    max_sweep_variants: int = 100_000
    default_timeout_seconds: float | None = 3600.0
    payload_threshold: int = DEFAULT_THRESHOLD
    progress_interval_seconds: float = 0.25
    log_buffer_lines: int = 200
    #: How failed logins slow further attempts down (:mod:`simdock.usecases.login_guard`).
    login: LoginLimits = field(default_factory=LoginLimits)
    #: How long a claimed run is held without its worker renewing the lease.
    lease_seconds: float = 10.0
    #: How long closing lets runs executing here go on before handing them back.
    shutdown_grace_seconds: float = 10.0
    #: Attempts at a run before losing its worker once more fails it.
    max_attempts: int = 3
    #: The container image a submission naming neither a simulation type nor an image runs.
    default_image: str = "sim:local"
    #: What a container run gets unless its job asks otherwise, and the most it may ask.
    default_resources: Resources = field(
        default_factory=lambda: Resources(memory_mb=256, cpus=1.0, pids=128))
    max_resources: Resources = field(
        default_factory=lambda: Resources(memory_mb=4096, cpus=2.0, pids=4096))
    #: How large a job's input archives may be.
    archives: ArchiveLimits = field(default_factory=ArchiveLimits)


class LiveRun(Protocol):
    """A run executing in this process, as closing and cancelling reach it."""

    def cancel(self) -> None:
        """Stop the run: it was cancelled."""

    def hand_back(self) -> None:
        """Stop the run: it goes back to the queue, its attempt not counted."""


@dataclass
class Platform:
    """Everything the use cases need, built once by the composition root.

    ``live`` holds the contexts of runs executing in this process so that a
    cancel can reach them at once instead of at their next progress report;
    ``held`` every run this process has claimed and not yet recorded (their
    leases are what its heartbeat renews); ``contact`` whether its heartbeat has been
    reaching the store, and since when;
    ``specs`` the sweep specifications this process read last; ``queue`` whose
    turn it is when this process's workers claim queued runs; ``credentials``
    who presented which credential lately (kept for no time unless configured).
    """

    #: The store's units of work; use cases open theirs with :meth:`uow`.
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
    worker_name: str = "local"
    description: str = ""
    live: dict[str, LiveRun] = field(default_factory=dict)
    held: HeldRuns = field(default_factory=HeldRuns, repr=False)
    contact: StoreContact = field(default_factory=StoreContact, repr=False)
    specs: SpecCache = field(default_factory=SpecCache, repr=False)
    queue: FairQueue = field(default_factory=FairQueue, repr=False)
    credentials: CredentialCache = field(
        default_factory=lambda: CredentialCache(0.0, SystemClock()), repr=False)
    on_close: list[Callable[[], None]] = field(default_factory=list)
    #: Services besides the store, blobs and broker that this process relies on (a
    #: container engine where container runs execute), each with its check.
    services: dict[str, Callable[[], None]] = field(default_factory=dict)
    _live_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _draining: threading.Event = field(default_factory=threading.Event, repr=False)
    _closing: bool = field(default=False, repr=False)
    _closed: bool = field(default=False, repr=False)

    def uow(self) -> OutboxUnitOfWork:
        """A unit of work over the store whose dispatches are sent once it commits."""
        return OutboxUnitOfWork(self.store(), self.dispatcher)

    @property
    def payloads(self) -> PayloadStore:
        return PayloadStore(self.blobs, self.limits.payload_threshold)

    def track(self, run_id: str, context: LiveRun | None) -> None:
        """Remember (or forget, with None) the context of a run executing here."""
        with self._live_lock:
            if context is None:
                self.live.pop(run_id, None)
            else:
                self.live[run_id] = context

    def signal_cancel(self, run_id: str) -> None:
        """Tell a run executing in this process that it was cancelled."""
        with self._live_lock:
            context = self.live.get(run_id)
        if context is not None:
            context.cancel()

    def signal_cancels(self, run_ids: Iterable[str]) -> None:
        """Tell the runs of ``run_ids`` executing in this process that they were cancelled
        (as many as a sweep has: looked up against the few executing here)."""
        with self._live_lock:
            live = dict(self.live)
        if not live:
            return
        for run_id in set(run_ids).intersection(live):
            live[run_id].cancel()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has closed the platform: its store may be gone."""
        return self._closed

    @property
    def draining(self) -> bool:
        """Whether :meth:`close` was called: claimed runs not started yet are handed back."""
        return self._draining.is_set()

    def hand_back_live(self) -> None:
        """Stop every run executing here, for it to go back to the queue uncounted."""
        with self._live_lock:
            contexts = list(self.live.values())
        for context in contexts:
            context.hand_back()

    def drain(self, stop: Callable[[], None]) -> None:
        """Let the runs executing here end while ``stop`` stops taking work and waits for
        what is in hand: a run still executing ``limits.shutdown_grace_seconds`` after this
        is called is stopped and handed back (queued again, its attempt not counted), as
        are runs claimed and not started; none waits for its lease to lapse."""
        self._draining.set()
        handing_back = threading.Timer(self.limits.shutdown_grace_seconds, self.hand_back_live)
        handing_back.daemon = True
        handing_back.start()
        try:
            stop()
        finally:
            handing_back.cancel()

    def close(self) -> None:
        """Drain (see :meth:`drain`) through the dispatcher, then close the store."""
        if self._closed or self._closing:
            return
        self._closing = True
        try:
            self.drain(self.dispatcher.close)
        finally:
            self._closed = True
            for close in self.on_close:
                close()
