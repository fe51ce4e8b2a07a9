"""What a listing or a look-up keeps, stated once: conditions on records.

A query (:mod:`simdock.selection`) or a lease rule says what it keeps as a
tuple of these conditions, all of which must hold. The memory adapter
evaluates them with :func:`holds`; the SQL adapter compiles each kind into a
WHERE clause through its table of fields. So a filter, a lease predicate or
the job-status filter exists once, and the contract suite shows the two
adapters agree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from simdock.domain.status import RunStatus


@dataclass(frozen=True)
class Equal:
    """The record's ``field`` is ``value``."""

    field: str
    value: Any


@dataclass(frozen=True)
class OneOf:
    """The record's ``field`` is one of ``values``."""

    field: str
    values: frozenset[Any]


@dataclass(frozen=True)
class NotBefore:
    """The record's ``field`` is set and at or after ``value``."""

    field: str
    value: Any


@dataclass(frozen=True)
class Before:
    """The record's ``field`` is set and before ``value``."""

    field: str
    value: Any


@dataclass(frozen=True)
class Tagged:
    """The record's job (the job itself, or a run's) holds ``tag``."""

    tag: str


@dataclass(frozen=True)
class RunOn:
    """A job with a run placed on machine ``machine_id``."""

    machine_id: str


@dataclass(frozen=True)
class JobStatusIn:
    """A job whose status (:mod:`simdock.domain.job_status`) is one of ``statuses``."""

    statuses: frozenset[RunStatus]


Condition = Equal | OneOf | NotBefore | Before | Tagged | RunOn | JobStatusIn


class Facts(Protocol):
    """What evaluating conditions needs beyond a record's own fields: what its store
    knows of the record's job."""

    def tags(self, record: Any) -> Collection[str]:
        """The tags of the record's job."""

    def machines(self, record: Any) -> Collection[str | None]:
        """The machines of the runs of a job."""

    def job_status(self, record: Any) -> RunStatus:
        """A job's status."""


def holds(condition: Condition, record: Any, facts: Facts | None = None) -> bool:
    """Whether ``condition`` holds for ``record`` (``facts``: for the conditions on its
    job's tags, runs or status)."""
    match condition:
        case Equal(name, value):
            return bool(getattr(record, name) == value)
        case OneOf(name, values):
            return getattr(record, name) in values
        case NotBefore(name, value):
            found = getattr(record, name)
            return found is not None and found >= value
        case Before(name, value):
            found = getattr(record, name)
            return found is not None and found < value
    if facts is None:
        raise ValueError(f"{condition!r} needs what the store knows of the record's job")
    match condition:
        case Tagged(tag):
            return tag in facts.tags(record)
        case RunOn(machine_id):
            return machine_id in facts.machines(record)
        case JobStatusIn(statuses):
            return facts.job_status(record) in statuses
    raise TypeError(f"not a condition: {condition!r}")


def all_hold(conditions: Iterable[Condition], record: Any, facts: Facts | None = None
             ) -> bool:
    """Whether every one of ``conditions`` holds for ``record``."""
    return all(holds(condition, record, facts) for condition in conditions)


def running_on(worker: str | None) -> tuple[Condition, ...]:
    """A run that ``worker`` is executing (at whichever attempt)."""
    return (Equal("status", RunStatus.RUNNING), Equal("worker", worker))


def held_by(worker: str | None, attempt: int) -> tuple[Condition, ...]:
    """A run that is ``worker``'s attempt ``attempt``, running: only that attempt may
    record what it did, and only its lease is renewed."""
    return (*running_on(worker), Equal("attempts", attempt))


def lapsed(now: Any) -> tuple[Condition, ...]:
    """A running run whose lease ended before ``now``: its worker is presumed lost."""
    return (Equal("status", RunStatus.RUNNING), Before("lease_expires_at", now))
