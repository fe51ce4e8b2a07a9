"""Dispatch through the database itself: queued runs wait for polling workers.

Nothing is sent anywhere: a committed queued run *is* the queue entry, and
``simdock worker`` processes claim runs fairly (SKIP LOCKED on PostgreSQL).
Suits deployments without a broker; submitters never execute.
"""

from __future__ import annotations

from collections.abc import Sequence

from simdock.ports import Work


class DatabaseDispatcher:
    def bind(self, work: Work) -> None:
        return None

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        return None  # already queued in the database by the committed submission

    def dispatch_report(self, report_id: str) -> None:
        return None

    def join(self, timeout: float | None = None) -> bool:
        return True  # no work is done in this process

    def close(self) -> None:
        return None

    #: The database is the queue: there is no broker.
    broker = None

    def check(self) -> None:
        return None
