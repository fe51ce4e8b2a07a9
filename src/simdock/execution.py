"""What this process is executing: the execution side's runtime state.

The composition root makes one per process and hands it to the use cases that
execute runs (the worker's loop, execution, the heartbeat); the request side
never sees it. It reaches the runs executing here only through the
:class:`~simdock.ports.StopSignals` this object implements, to stop the runs it
cancelled at once rather than at their next progress report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from simdock.contact import StoreContact
from simdock.fair_queue import FairQueue
from simdock.held_runs import HeldRuns


class LiveRun(Protocol):
    """A run executing in this process, as closing and cancelling reach it."""

    def cancel(self) -> None:
        """Stop the run: it was cancelled."""

    def hand_back(self) -> None:
        """Stop the run: it goes back to the queue, its attempt not counted."""


class Execution:
    """This process's executing runs, claims, store contact and queue turn.

    ``worker_name`` is what its claims are made under; ``held`` every run this
    process has claimed and not yet recorded (their leases are what its heartbeat
    renews); ``contact`` whether its heartbeat has been reaching the store, and
    since when; ``queue`` whose turn it is when its workers claim queued runs.
    """

    def __init__(self, worker_name: str = "local", grace_seconds: float = 10.0,
                 slots: int = 1, queues: tuple[str, ...] = ("simulations",)) -> None:
        """``grace_seconds``: how long :meth:`drain` lets runs executing here go on
        before handing them back."""
        self.worker_name = worker_name
        self.grace_seconds = grace_seconds
        #: What its heartbeats say of it (:class:`~simdock.domain.worker.WorkerBeat`): how
        #: many runs it executes at once, which queues it takes, when it first beat.
        self.slots = slots
        self.queues = queues
        self.started_at: datetime | None = None
        self.held = HeldRuns()
        self.contact = StoreContact()
        self.queue = FairQueue()
        self._live: dict[str, LiveRun] = {}
        self._lock = threading.Lock()
        self._draining = threading.Event()
        self._closed = threading.Event()

    def track(self, run_id: str, run: LiveRun | None) -> None:
        """Remember (or forget, with None) a run executing here."""
        with self._lock:
            if run is None:
                self._live.pop(run_id, None)
            else:
                self._live[run_id] = run

    def live(self) -> dict[str, LiveRun]:
        """The runs executing here now, by id."""
        with self._lock:
            return dict(self._live)

    def signal_cancels(self, run_ids: Iterable[str]) -> None:
        """Tell the runs of ``run_ids`` executing here that they were cancelled (as many
        as a sweep has: looked up against the few executing here)."""
        live = self.live()
        for run_id in set(run_ids).intersection(live):
            live[run_id].cancel()

    def hand_back_live(self) -> None:
        """Stop every run executing here, for it to go back to the queue uncounted."""
        for run in self.live().values():
            run.hand_back()

    @property
    def draining(self) -> bool:
        """Whether :meth:`drain` was called: claimed runs not started yet are handed back."""
        return self._draining.is_set()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has ended: the store may be gone, outcomes not recorded
        by then are given up (their leases lapse and the runs are taken back)."""
        return self._closed.is_set()

    def drain(self, stop: Callable[[], None]) -> None:
        """Let the runs executing here end while ``stop`` stops taking work and waits for
        what is in hand: a run still executing ``grace_seconds`` after this is called is
        stopped and handed back (queued again, its attempt not counted), as are runs
        claimed and not started; none waits for its lease to lapse."""
        self._draining.set()
        handing_back = threading.Timer(self.grace_seconds, self.hand_back_live)
        handing_back.daemon = True
        handing_back.start()
        try:
            stop()
        finally:
            handing_back.cancel()

    def close(self, stop: Callable[[], None]) -> None:
        """Drain through ``stop`` (see :meth:`drain`), then count as closed."""
        try:
            self.drain(stop)
        finally:
            self._closed.set()
