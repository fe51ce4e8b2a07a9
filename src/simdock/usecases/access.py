"""Loading resources on behalf of an owner: another user's resource is not found."""

from __future__ import annotations

from typing import Protocol, TypeVar

from simdock.domain import Job, Report, Run
from simdock.domain.text import may_name_something
from simdock.errors import NotFound
from simdock.repositories import UnitOfWork


class _Owned(Protocol):
    owner_id: str


OwnedT = TypeVar("OwnedT", bound=_Owned)


def visible(entity: OwnedT | None, owner_id: str | None, kind: str, entity_id: object) -> OwnedT:
    """``entity`` if it exists and ``owner_id`` (None: any owner) may see it."""
    if entity is None or (owner_id is not None and entity.owner_id != owner_id):
        raise NotFound(kind, entity_id)
    return entity


def named(identifier: object, kind: str) -> str:
    """``identifier`` if something could be stored under it; NotFound at once if not
    (an id holding a NUL names nothing, and some stores cannot even look it up)."""
    if not may_name_something(identifier):
        raise NotFound(kind, repr(identifier))
    assert isinstance(identifier, str)
    return identifier


def is_number(identifier: object) -> bool:
    """Whether ``identifier`` is an integer number (the Epistemix dialect's ids) rather
    than a string id."""
    return isinstance(identifier, int) and not isinstance(identifier, bool)


def load_job(uow: UnitOfWork, job_id: str | int, owner_id: str | None) -> Job:
    """The job by its id or its number, if ``owner_id`` may see it."""
    if is_number(job_id):
        assert isinstance(job_id, int)
        return visible(uow.jobs.get_by_number(job_id), owner_id, "job", job_id)
    return visible(uow.jobs.get(named(job_id, "job")), owner_id, "job", job_id)


def load_run(uow: UnitOfWork, run_id: str | int, owner_id: str | None) -> Run:
    """The run by its id or its number, if ``owner_id`` may see it."""
    if is_number(run_id):
        assert isinstance(run_id, int)
        return visible(uow.runs.get_by_number(run_id), owner_id, "run", run_id)
    return visible(uow.runs.get(named(run_id, "run")), owner_id, "run", run_id)


def load_report(uow: UnitOfWork, report_id: str, owner_id: str | None) -> Report:
    return visible(uow.reports.get(named(report_id, "report")), owner_id, "report", report_id)
