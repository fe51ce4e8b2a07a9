"""A run going back to the queue: its next attempt starts afresh.

Whatever puts a run back (its worker was lost, its claim is undone, the
process executing it shuts down, a user retries it), the metric points its
last attempt reported are dropped in the same transaction. So every reader
(the API and its streams, reports, the notebook) shows the current attempt's
series alone, never a dead attempt's steps beside the new ones. Log lines
stay: they tell what happened to the run.
"""

from __future__ import annotations

from collections.abc import Sequence

from simdock.domain import Run
from simdock.repositories import UnitOfWork


def back_to_queue(uow: UnitOfWork, runs: Sequence[Run]) -> None:
    """Forget what the last attempts of ``runs`` (queued again in ``uow``) measured."""
    if runs:
        uow.metrics.discard([run.id for run in runs])
