"""Query building shared by the SQL repositories: filters, ordering, pages, counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

import sqlalchemy as sa

from simdock.domain import RunStatus
from simdock.domain.criteria import (
    Before,
    Condition,
    Equal,
    JobStatusIn,
    NotBefore,
    OneOf,
    RunOn,
    Tagged,
)
from simdock.domain.job_status import (
    JOB_STATUS_RULE,
    Both,
    Count,
    Either,
    Fewer,
    Positive,
    Same,
    Test,
)
from simdock.paging import Ordering, PageRequest
from simdock.selection import JobQuery, RunQuery
from simdock_adapters.sql.tables import job_tags, jobs, runs

RUN_COLUMNS = {"created_at": runs.c.created_at, "updated_at": runs.c.updated_at,
               "started_at": runs.c.started_at, "finished_at": runs.c.finished_at,
               "status": runs.c.status, "simulation_type": runs.c.simulation_type,
               "index": runs.c.run_index, "progress": runs.c.progress}
JOB_COLUMNS = {"created_at": jobs.c.created_at, "simulation_type": jobs.c.simulation_type,
               "name": jobs.c.name, "run_count": jobs.c.run_count}


def order_by(column: sa.ColumnElement[Any], tie: sa.ColumnElement[Any], order: Ordering
             ) -> list[sa.ColumnElement[Any]]:
    """ORDER BY the column then the tie-breaker, NULLs where ``order`` puts them."""
    ordered = column.desc() if order.descending else column.asc()
    ordered = ordered.nulls_first() if order.nulls_first else ordered.nulls_last()
    return [ordered, tie.desc() if order.descending else tie.asc()]


def page(statement: sa.Select[Any], request: PageRequest,
         column: sa.ColumnElement[Any] | None = None, tie: sa.ColumnElement[Any] | None = None,
         order: Ordering | None = None) -> sa.Select[Any]:
    """One page of ``statement``: seeking past ``request.after`` when given (the listing must
    then be ordered by ``column`` and ``tie`` in ``order``), else by offset."""
    if request.after is None:
        return statement.limit(request.page_size).offset(request.offset)
    assert column is not None and tie is not None and order is not None
    request.check_order(order)
    return statement.where(after(column, tie, order, request.after.value,
                                 request.after.number)).limit(request.page_size)


def after(column: sa.ColumnElement[Any], tie: sa.ColumnElement[Any], order: Ordering,
          value: Any, number: int) -> sa.ColumnElement[bool]:
    """Rows after (value, number) in the order of :func:`order_by` (NULLs first descending,
    last ascending); a row comparison, so the listing's index is seeked, not scanned."""
    if order.descending:
        if value is None:
            return sa.or_(sa.and_(column.is_(None), tie < number), column.is_not(None))
        return sa.tuple_(column, tie) < sa.tuple_(sa.literal(value, column.type), number)
    if value is None:
        return sa.and_(column.is_(None), tie > number)
    later = sa.tuple_(column, tie) > sa.tuple_(sa.literal(value, column.type), number)
    return sa.or_(later, column.is_(None)) if column.nullable else later


#: The columns a condition on a run's or a job's field compiles to.
RUN_FIELDS: Mapping[str, sa.ColumnElement[Any]] = {
    **{column.name: column for column in runs.c}, "index": runs.c.run_index}
JOB_FIELDS: Mapping[str, sa.ColumnElement[Any]] = {column.name: column for column in jobs.c}


def run_filters(query: RunQuery) -> list[sa.ColumnElement[bool]]:
    """The query's conditions (:meth:`RunQuery.conditions`) as SQL over ``runs``."""
    return compiled(query.conditions(), RUN_FIELDS, runs.c.job_id)


def job_filters(query: JobQuery) -> list[sa.ColumnElement[bool]]:
    """The query's conditions (:meth:`JobQuery.conditions`) as SQL over ``jobs``."""
    return compiled(query.conditions(), JOB_FIELDS, jobs.c.id)


def compiled(conditions: Iterable[Condition], fields: Mapping[str, sa.ColumnElement[Any]],
             job_id: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
    """Conditions on records (``simdock.domain.criteria``) as WHERE clauses: ``fields``
    says which column each field is, ``job_id`` which column names the record's job."""
    return [_condition(condition, fields, job_id) for condition in conditions]


def _condition(condition: Condition, fields: Mapping[str, sa.ColumnElement[Any]],
               job_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    match condition:
        case Equal(name, value):
            column = fields[name]
            return column.is_(None) if value is None else column == _bound(value)
        case OneOf(name, values):
            return fields[name].in_(sorted(_bound(value) for value in values))
        case NotBefore(name, value):
            return fields[name] >= sa.literal(value, fields[name].type)
        case Before(name, value):
            return fields[name] < sa.literal(value, fields[name].type)
        case Tagged(tag):
            return sa.exists().where(job_tags.c.job_id == job_id, job_tags.c.tag == tag)
        case RunOn(machine_id):
            return sa.exists().where(runs.c.job_id == job_id, runs.c.machine_id == machine_id)
        case JobStatusIn(statuses):
            return derived_job_status().in_(sorted(status.value for status in statuses))
    raise TypeError(f"no SQL for {condition!r}")


def _bound(value: Any) -> Any:
    """A value as the column holds it (an enumeration's value)."""
    return value.value if isinstance(value, Enum) else value


def derived_job_status() -> sa.ColumnElement[str]:
    """The job status rule (``simdock.domain.job_status.JOB_STATUS_RULE``) compiled into a
    correlated SQL expression over the job's runs."""
    cases = [(_compiled(test), status.value) for status, test in JOB_STATUS_RULE
             if test is not None]
    otherwise = next(status for status, test in JOB_STATUS_RULE if test is None)
    return sa.case(*cases, else_=otherwise.value)


def _counted(count: Count) -> sa.ScalarSelect[Any]:
    statement = sa.select(sa.func.count()).where(runs.c.job_id == jobs.c.id)
    if count.statuses:
        statement = statement.where(runs.c.status.in_(sorted(s.value for s in count.statuses)))
    return statement.scalar_subquery()


def _compiled(test: Test) -> sa.ColumnElement[bool]:
    match test:
        case Positive(count):
            return _counted(count) > 0
        case Fewer(fewer, than):
            return _counted(fewer) < _counted(than)
        case Same(one, other):
            return _counted(one) == _counted(other)
        case Either(tests):
            return sa.or_(*(_compiled(t) for t in tests))
        case Both(tests):
            return sa.and_(*(_compiled(t) for t in tests))
    raise TypeError(f"no SQL for {test!r}")


def status_counts(rows: Iterable[Any]) -> dict[RunStatus, int]:
    """``{status: n}`` from (status, n) rows, leaving out statuses with none."""
    return {RunStatus(status): int(n) for status, n in rows if n}
