"""Repositories over one SQLAlchemy connection (the unit of work's transaction)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import aggregate_order_by

from simdock.domain import (
    ApiToken,
    Artifact,
    Job,
    LogLine,
    Machine,
    MachineStatus,
    MetricPoint,
    Payload,
    Report,
    ReportStatus,
    Run,
    RunStatus,
    User,
)
from simdock.domain.status import CANCELLABLE_RUN_STATUSES, TERMINAL_RUN_STATUSES
from simdock.errors import ConcurrencyConflict, Conflict, NotFound
from simdock.paging import Ordering, Page, PageRequest
from simdock.selection import JobQuery, RunQuery
from simdock.tallies import RunOutline, RunStatistics, RunTally
from simdock_adapters.sql import bulk, mappers
from simdock_adapters.sql.counts import StatusCounts
from simdock_adapters.sql.queries import (
    JOB_COLUMNS,
    RUN_COLUMNS,
    job_filters,
    order_by,
    page,
    run_filters,
    status_counts,
)
from simdock_adapters.sql.tables import (
    JOB_FIELDS,
    api_tokens,
    artifacts,
    job_tags,
    jobs,
    login_failures,
    login_successes,
    machines,
    metric_points,
    reports,
    run_logs,
    runs,
    users,
)

RUN_INSERT_BATCH = 5000


class _SqlRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    def _insert_new(self, table: sa.Table, row: dict[str, Any], kind: str,
                    statement: sa.Executable | None = None) -> int:
        """INSERT a row whose id must be new; returns its number, or raises Conflict.

        One statement: a row that would break a unique constraint is not inserted
        (ON CONFLICT DO NOTHING), so the transaction stays usable after a Conflict.
        ``statement`` replaces the plain INSERT by one that also writes more.
        """
        statement = _insert_if_new(table, self.dialect) if statement is None else statement
        number = self.connection.execute(statement, row).scalar()
        if number is None:
            raise Conflict(f"{kind} '{row['id']}' already exists")
        return int(number)

    def _guarded_update(self, table: sa.Table, entity_id: str, version: int,
                        values: dict[str, Any], kind: str) -> None:
        """UPDATE only if the stored version is the one read; else NotFound or a conflict."""
        parameters = {f"new_{name}": value for name, value in values.items()}
        parameters.update(match_id=entity_id, match_version=version, new_version=version + 1)
        result = self.connection.execute(_guarded_update_statement(table), parameters)
        if result.rowcount == 1:
            return
        exists = self.connection.execute(_by_id(table), {"id": entity_id}).first()
        if exists is None:
            raise NotFound(kind, entity_id)
        raise ConcurrencyConflict(f"{kind} '{entity_id}' was changed by someone else")


@functools.cache
def _insert_if_new(table: sa.Table, dialect: str) -> sa.Insert:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING number``, built once per table."""
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_nothing().returning(table.c.number)


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
def _guarded_update_statement(table: sa.Table) -> sa.Update:
    """``UPDATE table SET <every column> WHERE id = :match_id AND version = :match_version``.

    Built once per table, so the hot path of every state change only binds values.
    """
    columns = [c.name for c in table.c if c.name not in ("number", "id")]
    values: dict[str, Any] = {name: sa.bindparam(f"new_{name}") for name in columns}
    if table is runs:
        # A run that stays running keeps the lease stored (its worker's heartbeat renews
        # it without a new version); a claim sets it, leaving running clears it.
        staying = sa.and_(runs.c.status == RunStatus.RUNNING.value,
                          sa.bindparam("new_status") == RunStatus.RUNNING.value)
        values["lease_expires_at"] = sa.case(
            (staying, runs.c.lease_expires_at), else_=sa.bindparam("new_lease_expires_at"))
    return (table.update()
            .where(table.c.id == sa.bindparam("match_id"),
                   table.c.version == sa.bindparam("match_version"))
            .values(values))


@functools.cache
def _jobs_with_tags(dialect: str) -> sa.Select[Any]:
    """Jobs with their tags: built once per dialect (building it costs more than running it)."""
    return sa.select(*JOB_FIELDS, tag_list(dialect))


@functools.cache
def _job_by(dialect: str, column: str) -> sa.Select[Any]:
    """One job with its tags, by ``:key`` in ``column`` (id or number)."""
    return _jobs_with_tags(dialect).where(jobs.c[column] == sa.bindparam("key"))


_RUN_BY_NUMBER = sa.select(runs).where(runs.c.number == sa.bindparam("number"))
_RUNS_OF_JOB = (sa.select(runs).where(runs.c.job_id == sa.bindparam("job"))
                .order_by(runs.c.run_index))
_RUN_IDS_OF_JOB = (sa.select(runs.c.id).where(runs.c.job_id == sa.bindparam("job"))
                   .order_by(runs.c.run_index))
_FIRST_ERROR_OF_JOB = (sa.select(runs.c.error)
                       .where(runs.c.job_id == sa.bindparam("job"), runs.c.error.is_not(None),
                              runs.c.error != "")
                       .order_by(runs.c.run_index).limit(1).scalar_subquery())
_OUTLINE_OF_JOB = sa.select(sa.func.min(runs.c.started_at), sa.func.max(runs.c.finished_at),
                            _FIRST_ERROR_OF_JOB).where(runs.c.job_id == sa.bindparam("job"))


@functools.cache
def _by_id(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table).where(table.c.id == sa.bindparam("id"))


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


@functools.cache
def _run_with_job(dialect: str) -> sa.Select[Any]:
    """A run joined with its job (columns ``j_*``) and the job's tags, by ``:id``."""
    return (sa.select(runs, *(c.label(f"j_{c.name}") for c in JOB_FIELDS), tag_list(dialect))
            .join(jobs, jobs.c.id == runs.c.job_id).where(runs.c.id == sa.bindparam("id")))


_JOB_SPEC = sa.select(jobs.c.spec).where(jobs.c.id == sa.bindparam("id"))

_TOKEN_WITH_OWNER = (sa.select(api_tokens, *(c.label(f"user_{c.name}") for c in users.c))
                     .join(users, users.c.id == api_tokens.c.owner_id)
                     .where(api_tokens.c.token_hash == sa.bindparam("hash")))

# The queue of runs waiting to start is a partial index (owner_id, job_id, run_index) WHERE
# status = 'queued': its predicate is written as a literal so both planners can use it.
_IS_QUEUED = sa.text("runs.status = 'queued'")
_NEXT_QUEUED_OWNER = (sa.select(runs.c.owner_id).where(_IS_QUEUED)
                      .order_by(runs.c.owner_id).limit(1))
_NEXT_QUEUED_OWNER_AFTER = _NEXT_QUEUED_OWNER.where(runs.c.owner_id > sa.bindparam("after"))
_NEXT_QUEUED_JOB = (sa.select(runs.c.job_id)
                    .where(_IS_QUEUED, runs.c.owner_id == sa.bindparam("owner"))
                    .order_by(runs.c.job_id).limit(1))
_NEXT_QUEUED_JOB_AFTER = _NEXT_QUEUED_JOB.where(runs.c.job_id > sa.bindparam("after"))
_QUEUED_OF_JOB = (sa.select(runs)
                  .where(_IS_QUEUED, runs.c.owner_id == sa.bindparam("owner"),
                         runs.c.job_id == sa.bindparam("job"))
                  .order_by(runs.c.run_index).limit(sa.bindparam("limit")))
# FOR NO KEY UPDATE: a claim changes no key, so it neither waits for nor skips a run that
# is only referenced by an unfinished insert (a log line, a metric point of its worker).
_QUEUED_OF_JOB_SKIP_LOCKED = _QUEUED_OF_JOB.with_for_update(skip_locked=True, key_share=True)


class SqlJobRepository(_SqlRepository):
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
        # CASCADE; the triggers on runs keep run_status_counts right.
        result = self.connection.execute(jobs.delete().where(jobs.c.id == job_id))
        if result.rowcount != 1:
            raise NotFound("job", job_id)


class SqlRunRepository(_SqlRepository):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__(connection)
        self.counters = StatusCounts(connection)

    def add_many(self, new_runs: Sequence[Run]) -> None:
        ids = [r.id for r in new_runs]
        if len(set(ids)) != len(ids):
            repeated = next(i for i in ids if ids.count(i) > 1)
            raise Conflict(f"run '{repeated}' appears twice in one batch")
        if not new_runs:
            return
        shared = bulk.shared_row(new_runs)
        if shared is None:
            numbers = self._insert_each(new_runs)
        else:
            numbers = bulk.insert_runs(self.connection, new_runs, shared)
            if len(numbers) < len(new_runs):  # some id was taken: store none of the batch
                self.connection.execute(runs.delete().where(
                    runs.c.number.in_(sa.bindparam("numbers", expanding=True))),
                    {"numbers": list(numbers.values())})
                taken = next(run_id for run_id in ids if run_id not in numbers)
                raise Conflict(f"run '{taken}' already exists")
        for run in new_runs:
            run.number = numbers[run.id]

    def _insert_each(self, new_runs: Sequence[Run]) -> dict[str, int]:
        """Insert runs that differ in more than id and index, row by row."""
        ids = [r.id for r in new_runs]
        try:
            with self.connection.begin_nested():
                self.connection.execute(runs.insert(), [mappers.run_row(r) for r in new_runs])
        except sa.exc.IntegrityError:
            raise Conflict(f"run '{self._first_existing(ids)}' already exists") from None
        numbers: dict[str, int] = {}
        for start in range(0, len(ids), RUN_INSERT_BATCH):
            rows = self.connection.execute(
                sa.select(runs.c.id, runs.c.number)
                .where(runs.c.id.in_(ids[start:start + RUN_INSERT_BATCH])))
            numbers.update({run_id: number for run_id, number in rows})
        return numbers

    def _first_existing(self, ids: Sequence[str]) -> str:
        for start in range(0, len(ids), RUN_INSERT_BATCH):
            existing = self.connection.execute(
                sa.select(runs.c.id).where(runs.c.id.in_(ids[start:start + RUN_INSERT_BATCH]))
            ).first()
            if existing is not None:
                return str(existing.id)
        return "?"

    def get(self, run_id: str) -> Run | None:
        row = self.connection.execute(_by_id(runs), {"id": run_id}).first()
        return mappers.run_entity(row) if row is not None else None

    def get_by_number(self, number: int) -> Run | None:
        row = self.connection.execute(_RUN_BY_NUMBER, {"number": number}).first()
        return mappers.run_entity(row) if row is not None else None

    def get_with_job(self, run_id: str) -> tuple[Run, Job] | None:
        row = self.connection.execute(_run_with_job(self.dialect), {"id": run_id}).first()
        if row is None:
            return None
        return mappers.run_entity(row), mappers.job_entity(row, tags_of(row), prefix="j_")

    def for_job(self, job_id: str) -> list[Run]:
        rows = self.connection.execute(_RUNS_OF_JOB, {"job": job_id}).all()
        return [mappers.run_entity(row) for row in rows]

    def list(self, query: RunQuery) -> Page[Run]:
        conditions = run_filters(query)
        total = self._total(query, conditions)
        column = RUN_COLUMNS[query.order.field]
        ordering = order_by(column, runs.c.number, query.order)
        # Page through keys only (an index-only scan for the usual filters), then fetch
        # the page's rows: deep pages then skip index entries, not table rows.
        keys = page(sa.select(runs.c.number).where(*conditions).order_by(*ordering),
                    query.page, column, runs.c.number, query.order).subquery()
        statement = sa.select(runs).join(keys, keys.c.number == runs.c.number).order_by(*ordering)
        items = [mappers.run_entity(row) for row in self.connection.execute(statement)]
        return Page(items, total, query.page.page, query.page.page_size,
                    query.page.next_position(items, total, query.order))

    def _total(self, query: RunQuery, conditions: Sequence[sa.ColumnElement[bool]]) -> int:
        only_owner_and_status = (query.job_id is None and query.simulation_type is None
                                 and query.machine_id is None and query.tag is None)
        if only_owner_and_status:
            counts = self.counters.read(query.owner_id)
            return sum(n for s, n in counts.items()
                       if query.statuses is None or s in query.statuses)
        return int(self.connection.execute(
            sa.select(sa.func.count()).select_from(runs).where(*conditions)).scalar_one())

    def update(self, run: Run) -> None:
        row = mappers.run_row(run)
        del row["id"], row["version"]
        self._guarded_update(runs, run.id, run.version, row, "run")
        run.version += 1

    def cancel_unfinished(self, now: datetime, reason: str, job_id: str | None = None,
                          run_ids: Sequence[str] | None = None) -> Sequence[str]:
        statement = _CANCEL_JOB_RUNS if run_ids is None else _CANCEL_RUNS
        return self.connection.execute(statement, {
            "job": job_id, "ids": list(run_ids or ()), "now": now, "reason": reason,
            "cancellable": sorted(status.value for status in CANCELLABLE_RUN_STATUSES)}
        ).scalars().all()

    def claim(self, run_id: str, worker: str, now: datetime,
              lease_until: datetime | None = None) -> Run | None:
        statement = sa.select(runs).where(runs.c.id == run_id)
        if self.dialect == "postgresql":
            statement = statement.with_for_update(key_share=True)
        return self._start(self.connection.execute(statement).first(), worker, now,
                           lease_until)

    def next_queued_owner(self, after: str | None = None) -> str | None:
        statement = _NEXT_QUEUED_OWNER if after is None else _NEXT_QUEUED_OWNER_AFTER
        return self.connection.execute(statement, {"after": after}).scalar_one_or_none()

    def next_queued_job(self, owner_id: str, after: str | None = None) -> str | None:
        statement = _NEXT_QUEUED_JOB if after is None else _NEXT_QUEUED_JOB_AFTER
        return self.connection.execute(statement, {"owner": owner_id, "after": after}
                                       ).scalar_one_or_none()

    def claim_queued(self, owner_id: str, job_id: str, worker: str, now: datetime,
                     limit: int = 1, lease_until: datetime | None = None) -> Sequence[Run]:
        statement = _QUEUED_OF_JOB_SKIP_LOCKED if self.dialect == "postgresql" else _QUEUED_OF_JOB
        rows = self.connection.execute(statement, {"owner": owner_id, "job": job_id,
                                                   "limit": limit}).all()
        claimed = [mappers.run_entity(row) for row in rows]
        if not claimed:
            return []
        for run in claimed:
            run.start(now, worker, lease_until)
        parameters = []
        for run in claimed:
            row = mappers.run_row(run)
            del row["id"], row["version"]
            parameters.append({**{f"new_{name}": value for name, value in row.items()},
                               "match_id": run.id, "match_version": run.version,
                               "new_version": run.version + 1})
        result = self.connection.execute(_guarded_update_statement(runs), parameters)
        if result.rowcount != len(claimed):
            raise ConcurrencyConflict(f"queued runs of job '{job_id}' changed while claimed")
        for run in claimed:
            run.version += 1
        return claimed

    def _start(self, row: sa.Row[Any] | None, worker: str, now: datetime,
               lease_until: datetime | None) -> Run | None:
        if row is None or row.status != RunStatus.QUEUED.value:
            return None
        run = mappers.run_entity(row)
        run.start(now, worker, lease_until)
        try:
            self.update(run)
        except ConcurrencyConflict:
            return None
        return run

    def renew(self, worker: str, attempts: Mapping[str, int], until: datetime) -> set[str]:
        if not attempts:
            return set()
        held = sa.tuple_(runs.c.id, runs.c.attempts).in_(sorted(attempts.items()))
        rows = self.connection.execute(
            runs.update().where(held, runs.c.worker == worker,
                                runs.c.status == RunStatus.RUNNING.value)
            .values(lease_expires_at=until).returning(runs.c.id)).all()
        return {row.id for row in rows}

    def lapsed(self, now: datetime, limit: int = 100) -> Sequence[Run]:
        statement = (sa.select(runs).where(runs.c.status == RunStatus.RUNNING.value,
                                           runs.c.lease_expires_at < now)
                     .order_by(runs.c.lease_expires_at).limit(limit))
        if self.dialect == "postgresql":
            # A run whose row a lost host's transaction still locks is left for a later
            # beat: waiting for the lock would stall the beat, and every renewal with it.
            statement = statement.with_for_update(skip_locked=True)
        rows = self.connection.execute(statement)
        return [mappers.run_entity(row) for row in rows]

    def counts(self, owner_id: str | None = None, job_id: str | None = None
               ) -> dict[RunStatus, int]:
        if job_id is None:
            return self.counters.read(owner_id)
        statement = (sa.select(runs.c.status, sa.func.count()).where(runs.c.job_id == job_id)
                     .group_by(runs.c.status))
        if owner_id is not None:
            statement = statement.where(runs.c.owner_id == owner_id)
        return status_counts(self.connection.execute(statement))

    def outline(self, job_id: str) -> RunOutline:
        ids = self.connection.execute(_RUN_IDS_OF_JOB, {"job": job_id}).scalars().all()
        started, finished, error = self.connection.execute(_OUTLINE_OF_JOB,
                                                           {"job": job_id}).one()
        return RunOutline(ids=ids, first_started_at=started, last_finished_at=finished,
                          first_error=error)

    def tally_by_job(self, job_ids: Sequence[str]) -> dict[str, RunTally]:
        counts: dict[str, dict[RunStatus, int]] = {job_id: {} for job_id in job_ids}
        progress: dict[str, dict[RunStatus, float]] = {job_id: {} for job_id in job_ids}
        if job_ids:
            rows = self.connection.execute(
                sa.select(runs.c.job_id, runs.c.status, sa.func.count(),
                          sa.func.sum(runs.c.progress))
                .where(runs.c.job_id.in_(job_ids)).group_by(runs.c.job_id, runs.c.status))
            for job_id, status, n, reached in rows:
                counts[job_id][RunStatus(status)] = int(n)
                progress[job_id][RunStatus(status)] = float(reached or 0.0)
        return {job_id: RunTally(counts[job_id], progress[job_id]) for job_id in job_ids}

    def statistics(self, owner_id: str | None = None) -> RunStatistics:
        counts = self.counters.read(owner_id)
        seconds: sa.ColumnElement[Any]
        if self.dialect == "postgresql":
            seconds = sa.func.extract("epoch", runs.c.finished_at - runs.c.started_at)
        else:
            seconds = (sa.func.julianday(runs.c.finished_at)
                       - sa.func.julianday(runs.c.started_at)) * 86400.0
        statement = sa.select(sa.func.avg(seconds)).where(
            runs.c.status.in_([s.value for s in TERMINAL_RUN_STATUSES]),
            runs.c.started_at.is_not(None), runs.c.finished_at.is_not(None))
        if owner_id is not None:
            statement = statement.where(runs.c.owner_id == owner_id)
        mean = self.connection.execute(statement).scalar_one()
        return RunStatistics(counts, float(mean) if mean is not None else None,
                             sum(counts.values()))


class SqlReportRepository(_SqlRepository):
    def add(self, report: Report) -> None:
        self._insert_new(reports, mappers.report_row(report), "report")

    def get(self, report_id: str) -> Report | None:
        row = self.connection.execute(sa.select(reports).where(reports.c.id == report_id)).first()
        return mappers.report_entity(row) if row is not None else None

    def list(self, owner_id: str | None, statuses: frozenset[ReportStatus] | None,
             page_request: PageRequest) -> Page[Report]:
        conditions = []
        if owner_id is not None:
            conditions.append(reports.c.owner_id == owner_id)
        if statuses is not None:
            conditions.append(reports.c.status.in_(sorted(s.value for s in statuses)))
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(reports).where(*conditions)).scalar_one()
        statement = sa.select(reports).where(*conditions).order_by(
            *order_by(reports.c.created_at, reports.c.number, Ordering("created_at", True)))
        rows = self.connection.execute(page(statement, page_request))
        return Page([mappers.report_entity(row) for row in rows], total, page_request.page,
                    page_request.page_size)

    def update(self, report: Report) -> None:
        row = mappers.report_row(report)
        del row["id"], row["version"]
        self._guarded_update(reports, report.id, report.version, row, "report")
        report.version += 1


class SqlMachineRepository(_SqlRepository):
    def add(self, machine: Machine) -> None:
        self._insert_new(machines, mappers.machine_row(machine), "machine")

    def get(self, machine_id: str) -> Machine | None:
        row = self.connection.execute(
            sa.select(machines).where(machines.c.id == machine_id)).first()
        return mappers.machine_entity(row) if row is not None else None

    def list(self, status: MachineStatus | None, page_request: PageRequest) -> Page[Machine]:
        conditions = [machines.c.status == status.value] if status is not None else []
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(machines).where(*conditions)).scalar_one()
        statement = sa.select(machines).where(*conditions).order_by(
            *order_by(machines.c.created_at, machines.c.number, Ordering("created_at", False)))
        rows = self.connection.execute(page(statement, page_request))
        return Page([mappers.machine_entity(row) for row in rows], total, page_request.page,
                    page_request.page_size)

    def update(self, machine: Machine) -> None:
        row = mappers.machine_row(machine)
        del row["id"], row["version"]
        self._guarded_update(machines, machine.id, machine.version, row, "machine")
        machine.version += 1


class SqlUserRepository(_SqlRepository):
    def add(self, user: User) -> None:
        same = [users.c.email_key == user.email_key]
        if user.email_skeleton is not None:
            same.append(users.c.email_skeleton == user.email_skeleton)
        taken = self.connection.execute(
            sa.select(users.c.email_key).where(sa.or_(*same))).first()
        if taken is not None:
            raise Conflict(f"a user with email '{user.email}' already exists"
                           if taken.email_key == user.email_key else
                           f"the email '{user.email}' looks like another user's")
        user.number = self._insert_new(users, mappers.user_row(user), "user")

    def get(self, user_id: str) -> User | None:
        row = self.connection.execute(sa.select(users).where(users.c.id == user_id)).first()
        return mappers.user_entity(row) if row is not None else None

    def get_by_email_key(self, key: str) -> User | None:
        row = self.connection.execute(
            sa.select(users).where(users.c.email_key == key)).first()
        return mappers.user_entity(row) if row is not None else None

    def get_by_email_skeleton(self, skeleton: str) -> User | None:
        row = self.connection.execute(
            sa.select(users).where(users.c.email_skeleton == skeleton)).first()
        return mappers.user_entity(row) if row is not None else None

    def update(self, user: User) -> None:
        result = self.connection.execute(users.update().where(users.c.id == user.id).values(
            full_name=user.full_name, is_active=user.is_active, is_admin=user.is_admin))
        if result.rowcount != 1:
            raise NotFound("user", user.id)


class SqlLoginFailureRepository(_SqlRepository):
    def add(self, key: str, at: datetime) -> None:
        self.connection.execute(login_failures.insert().values(key=key, at=at))

    def since(self, key: str, after: datetime) -> list[datetime]:
        rows = self.connection.execute(
            sa.select(login_failures.c.at)
            .where(login_failures.c.key == key, login_failures.c.at > after)
            .order_by(login_failures.c.at))
        return [at for (at,) in rows]

    def forget(self, key: str, before: datetime | None = None) -> None:
        statement = login_failures.delete().where(login_failures.c.key == key)
        if before is not None:
            statement = statement.where(login_failures.c.at < before)
        self.connection.execute(statement)

    def discard(self, key: str, at: datetime) -> None:
        one = (sa.select(login_failures.c.number)
               .where(login_failures.c.key == key, login_failures.c.at == at)
               .limit(1).scalar_subquery())
        self.connection.execute(login_failures.delete().where(login_failures.c.number == one))

    def remember_success(self, key: str, at: datetime) -> None:
        # Two logins at once may leave two rows: the latest is the one read.
        self.connection.execute(login_successes.delete().where(login_successes.c.key == key))
        self.connection.execute(login_successes.insert().values(key=key, at=at))

    def last_success(self, key: str) -> datetime | None:
        at: datetime | None = self.connection.execute(
            sa.select(sa.func.max(login_successes.c.at))
            .where(login_successes.c.key == key)).scalar()
        return at


class SqlApiTokenRepository(_SqlRepository):
    def add(self, token: ApiToken) -> None:
        if self.connection.execute(sa.select(api_tokens.c.id).where(
                api_tokens.c.token_hash == token.token_hash)).first() is not None:
            raise Conflict(f"token '{token.id}' already exists")
        self._insert_new(api_tokens, mappers.token_row(token), "token")

    def get(self, token_id: str) -> ApiToken | None:
        row = self.connection.execute(_by_id(api_tokens), {"id": token_id}).first()
        return mappers.token_entity(row) if row is not None else None

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.connection.execute(
            sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash)).first()
        return mappers.token_entity(row) if row is not None else None

    def get_with_owner(self, token_hash: str) -> tuple[ApiToken, User] | None:
        row = self.connection.execute(_TOKEN_WITH_OWNER, {"hash": token_hash}).first()
        if row is None:
            return None
        return mappers.token_entity(row), mappers.user_entity(row, prefix="user_")

    def list(self, owner_id: str) -> list[ApiToken]:
        rows = self.connection.execute(
            sa.select(api_tokens).where(api_tokens.c.owner_id == owner_id)
            .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc()))
        return [mappers.token_entity(row) for row in rows]

    def update(self, token: ApiToken) -> None:
        result = self.connection.execute(
            api_tokens.update().where(api_tokens.c.id == token.id)
            .values(last_used_at=token.last_used_at, revoked_at=token.revoked_at,
                    name=token.name))
        if result.rowcount != 1:
            raise NotFound("token", token.id)


class SqlLogRepository(_SqlRepository):
    def append(self, run_id: str, messages: Sequence[tuple[datetime, str, str]]
               ) -> list[LogLine]:
        last = self.connection.execute(
            sa.select(sa.func.max(run_logs.c.seq)).where(run_logs.c.run_id == run_id)
        ).scalar_one() or 0
        lines = [LogLine(run_id, last + i + 1, at, message, stream)
                 for i, (at, stream, message) in enumerate(messages)]
        if lines:
            try:
                with self.connection.begin_nested():
                    self.connection.execute(run_logs.insert(), [
                        {"run_id": run_id, "seq": line.seq, "at": line.at,
                         "stream": line.stream, "message": line.message} for line in lines])
            except sa.exc.IntegrityError as exc:
                raise ConcurrencyConflict(f"log of run '{run_id}' was appended to "
                                          f"concurrently: {exc.orig}") from None
        return lines

    def list(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogLine]:
        statement = (sa.select(run_logs).where(run_logs.c.run_id == run_id,
                                               run_logs.c.seq > after_seq)
                     .order_by(run_logs.c.seq))
        if limit is not None:
            statement = statement.limit(limit)
        return [mappers.log_entity(row) for row in self.connection.execute(statement)]


def _cancel_statement(*selection: sa.ColumnElement[bool]) -> sa.Update:
    """Run.cancel applied to every cancellable run of a selection, in one statement."""
    return (runs.update()
            .where(*selection, runs.c.status.in_(sa.bindparam("cancellable", expanding=True)))
            .values(status=RunStatus.CANCELLED.value, error=sa.bindparam("reason"),
                    finished_at=sa.bindparam("now"), updated_at=sa.bindparam("now"),
                    lease_expires_at=None, version=runs.c.version + 1)
            .returning(runs.c.id))


_CANCEL_JOB_RUNS = _cancel_statement(runs.c.job_id == sa.bindparam("job"))
_CANCEL_RUNS = _cancel_statement(runs.c.id.in_(sa.bindparam("ids", expanding=True)))

_DISCARD_POINTS = metric_points.delete().where(
    metric_points.c.run_id.in_(sa.bindparam("run_ids", expanding=True)))


class SqlMetricRepository(_SqlRepository):
    def append(self, points: Sequence[MetricPoint]) -> None:
        if points:
            self.connection.execute(metric_points.insert(), [
                {"run_id": p.run_id, "name": p.name, "step": p.step, "value": p.value,
                 "at": p.at} for p in points])

    def discard(self, run_ids: Sequence[str]) -> None:
        if run_ids:
            self.connection.execute(_DISCARD_POINTS, {"run_ids": list(run_ids)})

    def list(self, run_id: str, name: str | None = None, since_step: int | None = None,
             since: datetime | None = None) -> list[MetricPoint]:
        statement = sa.select(metric_points).where(metric_points.c.run_id == run_id)
        if name is not None:
            statement = statement.where(metric_points.c.name == name)
        if since_step is not None:
            statement = statement.where(metric_points.c.step > since_step)
        if since is not None:
            statement = statement.where(metric_points.c.at > since)
        statement = statement.order_by(metric_points.c.name, metric_points.c.step,
                                       metric_points.c.at, metric_points.c.number)
        return [mappers.metric_entity(row) for row in self.connection.execute(statement)]


class SqlArtifactRepository(_SqlRepository):
    def add(self, artifact: Artifact) -> None:
        self.connection.execute(artifacts.delete().where(
            artifacts.c.run_id == artifact.run_id, artifacts.c.name == artifact.name))
        self.connection.execute(artifacts.insert().values(
            run_id=artifact.run_id, name=artifact.name, blob_key=artifact.blob_key,
            size=artifact.size, content_type=artifact.content_type,
            created_at=artifact.created_at))

    def list(self, run_id: str) -> list[Artifact]:
        rows = self.connection.execute(
            sa.select(artifacts).where(artifacts.c.run_id == run_id).order_by(artifacts.c.name))
        return [mappers.artifact_entity(row) for row in rows]

    def get(self, run_id: str, name: str) -> Artifact | None:
        row = self.connection.execute(sa.select(artifacts).where(
            artifacts.c.run_id == run_id, artifacts.c.name == name)).first()
        return mappers.artifact_entity(row) if row is not None else None
