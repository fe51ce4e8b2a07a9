"""The runs this process holds: claimed by its workers and not yet recorded.

Each is held at one attempt; the heartbeat renews the leases of exactly these
(:mod:`simdock.usecases.leases`), and forgets those the store says are no
longer this process's (cancelled, or taken back after the lease lapsed).
Claims whose commit went unanswered (the store went away at that moment) are
kept apart as unconfirmed: the store may have made them, and the heartbeat
undoes those it did once it answers again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from simdock.domain import Run


class HeldRuns:
    """Run id -> the attempt this process holds it at; safe across threads."""

    def __init__(self) -> None:
        self._held: dict[str, int] = {}
        self._unconfirmed: dict[str, int] = {}
        self._lock = threading.Lock()

    def hold(self, runs: Iterable[Run]) -> None:
        with self._lock:
            self._held.update((run.id, run.attempts) for run in runs)

    def release(self, run_ids: Iterable[str]) -> None:
        with self._lock:
            for run_id in run_ids:
                self._held.pop(run_id, None)

    def holds(self, run: Run) -> bool:
        """Whether this process still holds ``run`` at the attempt it claimed."""
        with self._lock:
            return self._held.get(run.id) == run.attempts

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._held)

    def unconfirmed(self, runs: Iterable[Run]) -> None:
        """Claims this process made but cannot tell were committed: it is not executing
        them, whatever the store recorded."""
        with self._lock:
            self._unconfirmed.update((run.id, run.attempts) for run in runs)

    def unconfirmed_snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._unconfirmed)

    def settle(self, claims: dict[str, int]) -> None:
        """Forget unconfirmed ``claims`` once the store has answered for them."""
        with self._lock:
            for run_id, attempt in claims.items():
                if self._unconfirmed.get(run_id) == attempt:
                    del self._unconfirmed[run_id]
