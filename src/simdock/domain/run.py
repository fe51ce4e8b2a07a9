"""The run: one execution of a simulation with one concrete parameter set."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from simdock.domain import criteria
from simdock.domain.criteria import all_hold
from simdock.domain.payload import Payload
from simdock.domain.run_identity import Reusable
from simdock.domain.status import RETRYABLE_RUN_STATUSES, RUN_TRANSITIONS, RunStatus
from simdock.domain.text import storable
from simdock.errors import InvalidTransition, ValidationError


@dataclass(eq=False)
class Run:
    """A run and its state machine.

    Every status change goes through :meth:`transition`, which refuses what
    ``RUN_TRANSITIONS`` does not allow; ``version`` lets repositories refuse a
    save based on a stale read, so two workers never both win.
    """

    id: str
    job_id: str
    owner_id: str
    simulation_type: str
    index: int
    created_at: datetime
    #: Parameters stored with the run itself: only runs stored before sweeps were kept
    #: as specifications have them; every other run's come from its job's spec.
    parameters: Payload | None = None
    status: RunStatus = RunStatus.QUEUED
    progress: float = 0.0
    attempts: int = 0
    machine_id: str | None = None
    timeout_seconds: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    result: Payload | None = None
    error: str | None = None
    worker: str | None = None
    #: While running: until when its worker holds it. A worker renews the lease while it
    #: executes the run; once the lease has lapsed the run is taken back (requeued, or
    #: failed after too many attempts), and the late worker's writes are refused.
    lease_expires_at: datetime | None = None
    number: int | None = None
    version: int = 0
    metadata: dict[str, object] = field(default_factory=dict)
    #: What makes it the same computation as another run (:mod:`~simdock.domain.run_identity`);
    #: None for a run that is never reused.
    identity: str | None = None
    #: The run that executed what this one would have: it was not executed, and its
    #: result and artifacts are that run's.
    reused_from: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status.terminal

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def start(self, now: datetime, worker: str | None = None,
              lease_until: datetime | None = None) -> None:
        """Claimed by a worker: one more attempt begins, held until ``lease_until``."""
        self.transition(RunStatus.RUNNING, now)
        self.attempts += 1
        self.started_at = now
        self.finished_at = None
        self.worker = worker
        self.lease_expires_at = lease_until
        self.error = None

    def transition(self, target: RunStatus, now: datetime) -> None:
        """Move to ``target`` or raise :class:`InvalidTransition`; leaving running ends
        the lease."""
        if target not in RUN_TRANSITIONS[self.status]:
            raise InvalidTransition("run", self.id, self.status.value, target.value)
        self.status = target
        self.updated_at = now
        if target is not RunStatus.RUNNING:
            self.lease_expires_at = None

    def held_by(self, worker: str | None, attempt: int) -> bool:
        """Whether this is still ``worker``'s attempt ``attempt``, running: only that
        attempt may record what it did."""
        return all_hold(criteria.held_by(worker, attempt), self)

    def left_by(self, worker: str | None, attempt: int) -> bool:
        """Whether ``worker``'s attempt ``attempt`` may still keep the files it left: it
        holds the run, or the run was stopped while it did (they show how far it got)."""
        return (self.status in (RunStatus.RUNNING, RunStatus.CANCELLED)
                and self.worker == worker and self.attempts == attempt)

    def succeed(self, result: Payload, now: datetime, executed_as: str | None = None) -> None:
        """Succeed with ``result``; ``executed_as`` is the identity of what it executed where
        that is not the one it was queued with (its input files were replaced meanwhile):
        a later run reuses it for what it did compute."""
        self.transition(RunStatus.SUCCEEDED, now)
        self.result = result
        if executed_as is not None and self.identity is not None:
            self.identity = executed_as
        self.progress = 1.0
        self.finished_at = now

    def as_reusable(self) -> Reusable:
        """This run as a later run of its identity may reuse it (it succeeded)."""
        if self.status is not RunStatus.SUCCEEDED or self.identity is None:
            raise InvalidTransition("run", self.id, self.status.value, "be reused")
        return Reusable(self.id, self.identity, self.result, self.attempts, self.reused_from)

    def reuse(self, source: Reusable, now: datetime) -> None:
        """Complete a new run at once with what ``source`` (a succeeded run of the same
        identity) computed: succeeded, never executed, its result ``source``'s (a blob
        result is referenced, not copied), ``reused_from`` the run that did execute."""
        if self.status is not RunStatus.QUEUED or self.attempts:
            raise InvalidTransition("run", self.id, self.status.value, "reuse")
        if source.identity != self.identity:
            raise InvalidTransition("run", source.id, "another computation", "be reused")
        self.status = RunStatus.SUCCEEDED  # straight from queued: nothing executes
        self.result = source.result
        self.progress = 1.0
        self.started_at = self.finished_at = self.updated_at = now
        self.reused_from = source.executed_by

    def fail(self, error: str, now: datetime) -> None:
        self.transition(RunStatus.FAILED, now)
        self.error = storable(error)
        self.finished_at = now

    def cancel(self, now: datetime, reason: str = "cancelled by request") -> None:
        self.transition(RunStatus.CANCELLED, now)
        self.error = storable(reason)
        self.finished_at = now

    def requeue(self, now: datetime) -> None:
        """Back to the queue after its worker was lost (its lease lapsed); progress starts
        over, the attempts made are kept."""
        self.transition(RunStatus.QUEUED, now)
        self.progress = 0.0
        self.worker = None

    def release(self, now: datetime) -> None:
        """Back to the queue as if never claimed: its worker never learned of the claim
        (the store's answer to it was lost), so no attempt was made and none is counted."""
        self.transition(RunStatus.QUEUED, now)
        self.attempts = max(0, self.attempts - 1)
        self.progress = 0.0
        self.started_at = None
        self.worker = None

    def retry(self, now: datetime) -> None:
        """Back to the queue after it failed or was cancelled, keeping its id and the
        attempts made; what the last attempt left (error, result, progress) is cleared."""
        if self.status not in RETRYABLE_RUN_STATUSES:
            raise InvalidTransition("run", self.id, self.status.value, "retry")
        self.transition(RunStatus.QUEUED, now)
        self.progress = 0.0
        self.error = None
        self.result = None
        self.started_at = None
        self.finished_at = None
        self.worker = None

    def touch(self, now: datetime) -> None:
        """Note a write about the running run at ``now``: a time of its own, by which a
        write whose commit went unanswered is later recognised as kept or not."""
        self.updated_at = now

    def report_progress(self, fraction: float, now: datetime) -> None:
        """Record progress of a running run; it never goes backwards."""
        if self.status is not RunStatus.RUNNING:
            raise InvalidTransition("run", self.id, self.status.value, "progress")
        if not 0.0 <= fraction <= 1.0:
            raise ValidationError(f"progress must be between 0 and 1, got {fraction}")
        self.progress = max(self.progress, fraction)
        self.updated_at = now

    def place_on(self, machine_id: str | None, now: datetime) -> None:
        """Place the run on a machine; only before it has finished."""
        if self.terminal:
            raise InvalidTransition("run", self.id, self.status.value, "placement")
        self.machine_id = machine_id
        self.updated_at = now
