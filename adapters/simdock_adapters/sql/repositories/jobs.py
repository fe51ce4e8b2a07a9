"""Jobs in SQL: stored with their tags in one statement, read with them, reserved run indexes."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by

from simdock.domain import Job, Payload
from simdock.errors import NotFound
from simdock.paging import Page
from simdock.selection import JobQuery
from simdock_adapters.sql import mappers
from simdock_adapters.sql.queries import JOB_COLUMNS, job_filters, order_by, page
from simdock_adapters.sql.repositories.base import SqlRepository
from simdock_adapters.sql.tables import JOB_FIELDS, job_run_counts, job_tags, jobs


@functools.cache
def _insert_job_with_tags() -> sa.Select[Any]:
    """PostgreSQL: a new job and its ``:tags`` in one statement (data-modifying CTEs),
    returning the job's number, or no row when its id is taken. Registering a job is
    then one round trip, not one per table."""
    columns: dict[str, Any] = {c.name: sa.bindparam(c.name) for c in jobs.c if c.name != "number"}
    new_job = (postgresql.insert(jobs).values(columns).on_conflict_do_nothing()
               .returning(jobs.c.id, jobs.c.number).cte("new_job"))
    given = (sa.func.unnest(sa.bindparam("tags", type_=postgresql.ARRAY(sa.Text)))
             .table_valued("tag", with_ordinality="ordinal").render_derived())
    new_tags = job_tags.insert().from_select(
        ["job_id", "tag", "position"],
        sa.select(new_job.c.id, given.c.tag, given.c.ordinal - 1)
        .select_from(new_job).join(given, sa.true())).cte("new_tags")
    return sa.select(new_job.c.number).add_cte(new_tags)


@functools.cache
def _jobs_with_tags(dialect: str) -> sa.Select[Any]:
    """Jobs with their tags: built once per dialect (building it costs more than running it)."""
    return sa.select(*JOB_FIELDS, tag_list(dialect))


@functools.cache
def _job_by(dialect: str, column: str) -> sa.Select[Any]:
    """One job with its tags, by ``:key`` in ``column`` (id or number)."""
    return _jobs_with_tags(dialect).where(jobs.c[column] == sa.bindparam("key"))


def tag_list(dialect: str) -> sa.Label[Any]:
    """A job's tags aggregated in the statement that reads the job, in tag order."""
    if dialect == "postgresql":
        aggregated = sa.func.json_agg(aggregate_order_by(job_tags.c.tag, job_tags.c.position))
        tags = sa.select(aggregated).where(job_tags.c.job_id == jobs.c.id)
    else:
        # A derived table is not correlated by default: without correlate() it would
        # join every job's tags.
        ordered = (sa.select(job_tags.c.tag).where(job_tags.c.job_id == jobs.c.id)
                   .order_by(job_tags.c.position).correlate(jobs).subquery())
        tags = sa.select(sa.func.json_group_array(ordered.c.tag))
    return tags.scalar_subquery().label("tag_list")


def tags_of(row: sa.Row[Any]) -> tuple[str, ...]:
    tags = row.tag_list
    if isinstance(tags, str):  # SQLite returns the JSON text
        tags = json.loads(tags)
    return tuple(tags or ())


_JOB_SPEC = sa.select(jobs.c.spec).where(jobs.c.id == sa.bindparam("id"))


class SqlJobRepository(SqlRepository):
    def add(self, job: Job, spec: Payload | None = None) -> None:
        row = {**mappers.job_row(job), "spec": mappers.payload_record(spec)}
        if self.dialect == "postgresql":
            job.number = self._insert_new(jobs, {**row, "tags": list(job.tags)}, "job",
                                          _insert_job_with_tags())
            return
        job.number = self._insert_new(jobs, row, "job")
        self._insert_tags(job)

    def spec(self, job_id: str) -> Payload | None:
        record = self.connection.execute(_JOB_SPEC, {"id": job_id}).scalar_one_or_none()
        return Payload.from_record(record)

    def specs(self, job_ids: Sequence[str]) -> dict[str, Payload]:
        if not job_ids:
            return {}
        rows = self.connection.execute(sa.select(jobs.c.id, jobs.c.spec).where(
            jobs.c.id.in_(sorted(set(job_ids)))))
        return {row.id: payload for row in rows
                if (payload := Payload.from_record(row.spec)) is not None}

    def _write_tags(self, job: Job) -> None:
        self.connection.execute(job_tags.delete().where(job_tags.c.job_id == job.id))
        self._insert_tags(job)

    def _insert_tags(self, job: Job) -> None:
        if job.tags:
            self.connection.execute(job_tags.insert(), [
                {"job_id": job.id, "tag": tag, "position": i} for i, tag in enumerate(job.tags)])

    def _with_tags(self) -> sa.Select[Any]:
        return _jobs_with_tags(self.dialect)

    @staticmethod
    def _entity(row: sa.Row[Any]) -> Job:
        return mappers.job_entity(row, tags_of(row))

    def get(self, job_id: str) -> Job | None:
        row = self.connection.execute(_job_by(self.dialect, "id"), {"key": job_id}).first()
        return self._entity(row) if row is not None else None

    def get_many(self, job_ids: Sequence[str]) -> dict[str, Job]:
        if not job_ids:
            return {}
        rows = self.connection.execute(
            self._with_tags().where(jobs.c.id.in_(sorted(set(job_ids)))))
        return {row.id: self._entity(row) for row in rows}

    def get_by_number(self, number: int) -> Job | None:
        row = self.connection.execute(_job_by(self.dialect, "number"), {"key": number}).first()
        return self._entity(row) if row is not None else None

    def list(self, query: JobQuery) -> Page[Job]:
        conditions = job_filters(query)
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(jobs).where(*conditions)).scalar_one()
        column = JOB_COLUMNS[query.order.field]
        statement = self._with_tags().where(*conditions).order_by(
            *order_by(column, jobs.c.number, query.order))
        rows = self.connection.execute(
            page(statement, query.page, column, jobs.c.number, query.order)).all()
        items = [self._entity(row) for row in rows]
        return Page(items, total, query.page.page, query.page.page_size,
                    query.page.next_position(items, total, query.order))

    def update(self, job: Job) -> None:
        row = mappers.job_row(job)
        result = self.connection.execute(jobs.update().where(jobs.c.id == job.id).values(
            name=row["name"], metadata=row["metadata"], input_files=row["input_files"]))
        if result.rowcount != 1:
            raise NotFound("job", job.id)
        self._write_tags(job)

    def reserve_runs(self, job_id: str, count: int) -> int:
        # One statement: the row's write lock orders concurrent reservations.
        total = self.connection.execute(
            jobs.update().where(jobs.c.id == job_id)
            .values(run_count=jobs.c.run_count + count).returning(jobs.c.run_count)
        ).scalar_one_or_none()
        if total is None:
            raise NotFound("job", job_id)
        return int(total) - count

    def delete(self, job_id: str) -> None:
        # Tags, runs and the runs' logs, metric points and artifacts go by ON DELETE
        # CASCADE; the triggers on runs keep run_status_counts right, and the job's own
        # counts (which those triggers just wrote to) go with it.
        result = self.connection.execute(jobs.delete().where(jobs.c.id == job_id))
        if result.rowcount != 1:
            raise NotFound("job", job_id)
        self.connection.execute(job_run_counts.delete().where(job_run_counts.c.job_id == job_id))
