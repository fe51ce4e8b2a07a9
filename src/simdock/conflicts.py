"""Steps that lost a race with another writer are tried again, a few times, then given up.

A write guarded by a row's version (:class:`~simdock.errors.ConcurrencyConflict`)
fails when another writer changed the row since it was read: a progress write
of the run's own worker, a cancel, a beat. The step reads what it changes
afresh each time it is tried. After ``attempts`` lost races it gives up with a
:class:`~simdock.errors.ConcurrencyConflict` naming what kept changing: never a
silent "nothing done", never a loop without end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from simdock.errors import ConcurrencyConflict

T = TypeVar("T")

#: How many times a step is tried before its conflict is given up.
CONFLICT_ATTEMPTS = 5


def retry_on_conflict(step: Callable[[], T], what: str,
                      attempts: int = CONFLICT_ATTEMPTS) -> T:
    """``step()``, tried again while it loses races with other writers (at most
    ``attempts`` times in all); then ConcurrencyConflict saying that ``what`` kept
    changing."""
    for _ in range(attempts - 1):
        try:
            return step()
        except ConcurrencyConflict:
            continue
    try:
        return step()
    except ConcurrencyConflict as exc:
        raise ConcurrencyConflict(f"{what} kept changing while it was written "
                                  f"({attempts} tries); try again") from exc
