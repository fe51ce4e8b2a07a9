"""A job's status from how many of its runs are in each status: the rule, stated once.

The rule is data (:data:`JOB_STATUS_RULE`): tests over counts of the job's runs,
tried in order, the first that holds giving the status. :func:`job_status`
evaluates it on counts in memory; the SQL adapter compiles the same tests into
the status filter of its job listing, so the two cannot drift apart.

Running while anything is running or some runs are done and others still
queued; queued while nothing has started; once every run is terminal: failed
if any failed, else cancelled if any was cancelled (a sweep stopped part way),
else succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from simdock.domain.status import RunStatus


@dataclass(frozen=True)
class Count:
    """How many of a job's runs are in ``statuses`` (every run when none is named)."""

    statuses: frozenset[RunStatus] = frozenset()

    def of(self, counts: Mapping[RunStatus, int]) -> int:
        if not self.statuses:
            return sum(counts.values())
        return sum(counts.get(status, 0) for status in self.statuses)


@dataclass(frozen=True)
class Positive:
    """Some runs are counted."""

    count: Count

    def holds(self, counts: Mapping[RunStatus, int]) -> bool:
        return self.count.of(counts) > 0


@dataclass(frozen=True)
class Fewer:
    """``fewer`` counts less than ``than``."""

    fewer: Count
    than: Count

    def holds(self, counts: Mapping[RunStatus, int]) -> bool:
        return self.fewer.of(counts) < self.than.of(counts)


@dataclass(frozen=True)
class Same:
    """``one`` and ``other`` count as many."""

    one: Count
    other: Count

    def holds(self, counts: Mapping[RunStatus, int]) -> bool:
        return self.one.of(counts) == self.other.of(counts)


@dataclass(frozen=True)
class Either:
    """Any of ``tests`` holds."""

    tests: tuple[Test, ...]

    def holds(self, counts: Mapping[RunStatus, int]) -> bool:
        return any(test.holds(counts) for test in self.tests)


@dataclass(frozen=True)
class Both:
    """Every one of ``tests`` holds."""

    tests: tuple[Test, ...]

    def holds(self, counts: Mapping[RunStatus, int]) -> bool:
        return all(test.holds(counts) for test in self.tests)


Test = Positive | Fewer | Same | Either | Both

ALL = Count()
QUEUED = Count(frozenset({RunStatus.QUEUED}))

#: (status, test) in order: a job has the status of the first test that holds; the last
#: status (no test) is what it has otherwise.
JOB_STATUS_RULE: tuple[tuple[RunStatus, Test | None], ...] = (
    (RunStatus.RUNNING, Either((Positive(Count(frozenset({RunStatus.RUNNING}))),
                                Both((Positive(QUEUED), Fewer(QUEUED, ALL)))))),
    (RunStatus.QUEUED, Same(QUEUED, ALL)),  # nothing started (a job without runs too)
    (RunStatus.FAILED, Positive(Count(frozenset({RunStatus.FAILED})))),
    (RunStatus.CANCELLED, Positive(Count(frozenset({RunStatus.CANCELLED})))),
    (RunStatus.SUCCEEDED, None),
)


def job_status(counts: Mapping[RunStatus, int]) -> RunStatus:
    """The status of a job whose runs are counted by status in ``counts``."""
    for status, test in JOB_STATUS_RULE:
        if test is None or test.holds(counts):
            return status
    raise AssertionError("JOB_STATUS_RULE ends with a status for every other case")
