"""Runs in SQL: claims, leases, the fair queue's look-ups, cancels, counts and outlines."""

from __future__ import annotations

import functools
import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from simdock.codec import JsonText
from simdock.domain import Job, Payload, Run, RunAttempt, RunStatus, criteria
from simdock.domain.run_identity import Reusable
from simdock.domain.status import CANCELLABLE_RUN_STATUSES, TERMINAL_RUN_STATUSES
from simdock.errors import ConcurrencyConflict, Conflict
from simdock.paging import Page
from simdock.selection import RunQuery
from simdock.tallies import RunLine, RunOutline, RunStatistics, RunTally
from simdock_adapters.sql import bulk, mappers
from simdock_adapters.sql.counts import StatusCounts
from simdock_adapters.sql.queries import (
    RUN_COLUMNS,
    RUN_FIELDS,
    compiled,
    order_by,
    page,
    run_filters,
    status_counts,
)
from simdock_adapters.sql.repositories.base import (
    SqlRepository,
    among,
    by_id,
    guarded_update_statement,
)
from simdock_adapters.sql.repositories.jobs import tag_list, tags_of
from simdock_adapters.sql.tables import ERRED, JOB_FIELDS, jobs, run_attempts, runs

RUN_INSERT_BATCH = 5000
_RUN_BY_NUMBER = sa.select(runs).where(runs.c.number == sa.bindparam("number"))


_JOB_OWNED = sa.select(jobs.c.number).where(jobs.c.id == sa.bindparam("job"),
                                           jobs.c.owner_id == sa.bindparam("owner"))
_RUNS_OF_JOB = (sa.select(runs).where(runs.c.job_id == sa.bindparam("job"))
                .order_by(runs.c.run_index))


_RUN_IDS_OF_JOB = (sa.select(runs.c.id).where(runs.c.job_id == sa.bindparam("job"))
                   .order_by(runs.c.run_index))


# Each part of a job's outline is its own look-up, so that each is answered from an
# index (SQLite reads a min or max from an index only when it is the query's only
# aggregate); the first error's condition is the literal of its partial index.
_OUTLINE_OF_JOB = sa.select(
    sa.select(sa.func.min(runs.c.started_at))
    .where(runs.c.job_id == sa.bindparam("job")).scalar_subquery(),
    sa.select(sa.func.max(runs.c.finished_at))
    .where(runs.c.job_id == sa.bindparam("job")).scalar_subquery(),
    sa.select(runs.c.error).where(runs.c.job_id == sa.bindparam("job"), ERRED)
    .order_by(runs.c.run_index).limit(1).scalar_subquery())


@functools.cache
def _lines(dialect: str) -> sa.Select[Any]:
    """What :class:`RunLine` holds of each run; an inline payload's value as JSON text,
    taken out of its record by the database, not read."""
    record = runs.c.parameters
    if dialect == "postgresql":
        inline: sa.ColumnElement[Any] = sa.cast(record["$inline"], sa.Text)
        blob: sa.ColumnElement[Any] = record["$blob"].as_string()
        size: sa.ColumnElement[Any] = record["size"].as_string()
    else:
        inline = sa.func.json_extract(record, '$."$inline"')
        blob = sa.func.json_extract(record, '$."$blob"')
        size = sa.func.json_extract(record, "$.size")
    return sa.select(runs.c.id, runs.c.number, runs.c.job_id, runs.c.owner_id,
                     runs.c.run_index, runs.c.status, runs.c.attempts, runs.c.created_at,
                     runs.c.finished_at, inline.label("inline"), blob.label("blob"),
                     size.label("size"), runs.c.metadata)


def _line(row: sa.Row[Any]) -> RunLine:
    (run_id, number, job_id, owner_id, index, status, attempts, created_at, finished_at,
     inline, blob, size, metadata) = tuple(row)
    parameters = (Payload(blob_key=blob, size=int(size or 0)) if blob is not None
                  else Payload(inline=JsonText(inline), size=int(size or 0))
                  if inline is not None else None)
    return RunLine(run_id, number, job_id, owner_id, index, RunStatus(status), attempts,
                   created_at, finished_at, parameters, metadata)


@functools.cache
def _joined_job(dialect: str) -> tuple[sa.ColumnElement[Any], ...]:
    """The columns of a run's job beside the run's (``j_*``), and the job's tags."""
    return (*(c.label(f"j_{c.name}") for c in JOB_FIELDS), tag_list(dialect))


_ATTEMPTS = (sa.select(run_attempts).where(run_attempts.c.run_id == sa.bindparam("run"))
             .order_by(run_attempts.c.attempt))


@functools.cache
def _numeric_results(dialect: str, sampled: bool) -> sa.TextClause:
    """(index, number) of a job's succeeded runs whose inline result holds a number under
    ``:name``, every ``:every``-th index; the number read by the database, so that a sweep
    of 100,000 runs sends two columns, not its results."""
    conditions = "status = 'succeeded' AND result IS NOT NULL"
    if dialect == "postgresql":
        value = ("CASE WHEN jsonb_typeof(result -> '$inline' -> :name) = 'number' "
                 "THEN (result -> '$inline' ->> :name)::float8 END")
        # A sample's runs are looked up by index, one probe each, not found by a scan (the
        # LIMIT keeps the planner from turning the probes into a join over the whole job).
        source = ("generate_series(0, (SELECT max(run_index) FROM runs WHERE job_id = :job), "
                  ":every) AS sampled(i) CROSS JOIN LATERAL (SELECT run_index, status, result "
                  "FROM runs WHERE job_id = :job AND run_index = sampled.i LIMIT 1) AS runs"
                  if sampled else "runs")
        conditions = conditions if sampled else f"job_id = :job AND {conditions}"
    else:
        path = "'$.\"$inline\".\"' || replace(:name, '\"', '') || '\"'"
        value = (f"CASE WHEN json_type(result, {path}) IN ('integer', 'real') "
                 f"THEN json_extract(result, {path}) END")
        source = "runs"
        conditions = f"job_id = :job AND {conditions}" + (
            " AND run_index % :every = 0" if sampled else "")
    return sa.text(f"SELECT run_index, {value} AS value FROM {source} "  # the name: a parameter
                   f"WHERE {conditions} ORDER BY run_index")


@functools.cache
def _run_with_job(dialect: str) -> sa.Select[Any]:
    """A run joined with its job (columns ``j_*``) and the job's tags, by ``:id``."""
    return (sa.select(runs, *_joined_job(dialect))
            .join(jobs, jobs.c.id == runs.c.job_id).where(runs.c.id == sa.bindparam("id")))


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
# In the order they were added (their number): a replicated job's batches are added point
# by point, and a claim then takes one point's replicates, not a few of every point.
_QUEUED_OF_JOB = (sa.select(runs)
                  .where(_IS_QUEUED, runs.c.owner_id == sa.bindparam("owner"),
                         runs.c.job_id == sa.bindparam("job"))
                  .order_by(runs.c.number).limit(sa.bindparam("limit")))


# FOR NO KEY UPDATE: a claim changes no key, so it neither waits for nor skips a run that
# is only referenced by an unfinished insert (a log line, a metric point of its worker).
_QUEUED_OF_JOB_SKIP_LOCKED = _QUEUED_OF_JOB.with_for_update(skip_locked=True, key_share=True)


class SqlRunRepository(SqlRepository):
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
        row = self.connection.execute(by_id(runs), {"id": run_id}).first()
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
        return self._page(query, with_jobs=False)[0]

    def list_with_jobs(self, query: RunQuery) -> tuple[Page[Run], dict[str, Job]]:
        return self._page(query, with_jobs=True)

    def _page(self, query: RunQuery, with_jobs: bool) -> tuple[Page[Run], dict[str, Job]]:
        conditions = run_filters(query)
        total = self._total(query, conditions)
        column = RUN_COLUMNS[query.order.field]
        ordering = order_by(column, runs.c.number, query.order)
        # Page through keys only (an index-only scan for the usual filters), then fetch
        # the page's rows: deep pages then skip index entries, not table rows.
        keys = page(sa.select(runs.c.number).where(*conditions).order_by(*ordering),
                    query.page, column, runs.c.number, query.order).subquery()
        statement = (sa.select(runs, *_joined_job(self.dialect))
                     .join(jobs, jobs.c.id == runs.c.job_id) if with_jobs else sa.select(runs))
        rows = self.connection.execute(
            statement.join(keys, keys.c.number == runs.c.number).order_by(*ordering)).all()
        items = [mappers.run_entity(row) for row in rows]
        found = {row.job_id: mappers.job_entity(row, tags_of(row), prefix="j_")
                 for row in rows} if with_jobs else {}
        return (Page(items, total, query.page.page, query.page.page_size,
                     query.page.next_position(items, total, query.order)), found)

    def _total(self, query: RunQuery, conditions: Sequence[sa.ColumnElement[bool]]) -> int:
        """How many runs the query matches, from the kept counts when it filters by owner,
        job and status only."""
        counts: Mapping[RunStatus, int] | None = None
        if query.simulation_type is None and query.machine_id is None and query.tag is None:
            if query.job_id is None:
                counts = self.counters.read(query.owner_id)
            elif query.owner_id is None or self._owns(query.owner_id, query.job_id):
                counts = self.counters.by_job([query.job_id])[query.job_id].counts
            else:
                return 0
        if counts is not None:
            return sum(n for s, n in counts.items()
                       if query.statuses is None or s in query.statuses)
        return int(self.connection.execute(
            sa.select(sa.func.count()).select_from(runs).where(*conditions)).scalar_one())

    def _owns(self, owner_id: str, job_id: str) -> bool:
        return self.connection.execute(_JOB_OWNED, {"job": job_id, "owner": owner_id}
                                       ).first() is not None

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

    def reusable(self, owner_id: str, identities: Collection[str]) -> dict[str, Reusable]:
        found: dict[str, Reusable] = {}
        if not identities:
            return found
        for wanted in among(runs.c.identity, sorted(set(identities)), self.dialect):
            first = (sa.select(sa.func.min(runs.c.number)).where(
                runs.c.owner_id == owner_id, runs.c.status == RunStatus.SUCCEEDED.value,
                wanted).group_by(runs.c.identity))
            statement = sa.select(runs.c.id, runs.c.identity, runs.c.result, runs.c.attempts,
                                  runs.c.reused_from).where(runs.c.number.in_(first))
            if self.dialect == "postgresql":  # not deleted before this unit of work ends
                statement = statement.with_for_update(key_share=True, read=True)
            for row in self.connection.execute(statement):
                found[row.identity] = Reusable(row.id, row.identity,
                                               Payload.from_record(row.result), row.attempts,
                                               row.reused_from)
        return found

    def referenced(self, run_ids: Collection[str]) -> set[str]:
        found: set[str] = set()
        wanted = sorted(set(run_ids))
        if not wanted:
            return found
        for column in (runs.c.id, runs.c.reused_from):
            for condition in among(column, wanted, self.dialect):
                found.update(self.connection.execute(
                    sa.select(column).where(condition)).scalars())
        return found

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
        result = self.connection.execute(guarded_update_statement(runs), parameters)
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
        running = compiled(criteria.running_on(worker), RUN_FIELDS, runs.c.job_id)
        if self.dialect == "postgresql":
            # Lock the rows in id order first, as a worker recording several outcomes does:
            # the UPDATE alone locks them in the table's order, and a worker holding one of
            # them while it waits for another would wait for this beat forever (deadlock).
            self.connection.execute(sa.select(runs.c.id).where(held, *running)
                                    .order_by(runs.c.id).with_for_update())
        rows = self.connection.execute(
            runs.update().where(held, *running)
            .values(lease_expires_at=until).returning(runs.c.id)).all()
        return {row.id for row in rows}

    def lapsed(self, now: datetime, limit: int = 100) -> Sequence[Run]:
        statement = (sa.select(runs)
                     .where(*compiled(criteria.lapsed(now), RUN_FIELDS, runs.c.job_id))
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
        if owner_id is None:
            return dict(self.counters.by_job([job_id])[job_id].counts)
        statement = (sa.select(runs.c.status, sa.func.count()).where(runs.c.job_id == job_id)
                     .group_by(runs.c.status))
        if owner_id is not None:
            statement = statement.where(runs.c.owner_id == owner_id)
        return status_counts(self.connection.execute(statement))

    def lines(self, job_id: str | None = None, numbers: Sequence[int] = ()
              ) -> Sequence[RunLine]:
        statement = _lines(self.dialect)
        if job_id is not None:
            rows = self.connection.execute(
                statement.where(runs.c.job_id == job_id).order_by(runs.c.run_index)).all()
            return [_line(row) for row in rows]
        wanted = list(dict.fromkeys(numbers))
        if not wanted:
            return []
        found = {line.number: line for line in map(_line, self.connection.execute(
            statement.where(runs.c.number.in_(wanted))).all())}
        return [found[number] for number in wanted if number in found]

    def outline(self, job_id: str, with_ids: bool = True) -> RunOutline:
        ids = self.connection.execute(_RUN_IDS_OF_JOB, {"job": job_id}).scalars().all() \
            if with_ids else []
        started, finished, error = self.connection.execute(_OUTLINE_OF_JOB,
                                                           {"job": job_id}).one()
        return RunOutline(ids=ids, first_started_at=started, last_finished_at=finished,
                          first_error=error)

    def attempts(self, run_id: str) -> Sequence[RunAttempt]:
        return [RunAttempt(row.run_id, row.attempt, row.worker, row.started_at,
                           row.ended_at, row.outcome, row.error)
                for row in self.connection.execute(_ATTEMPTS, {"run": run_id})]

    def numeric_results(self, job_id: str, name: str, every: int = 1
                        ) -> Sequence[tuple[int, float]]:
        every = max(1, every)
        rows = self.connection.execute(_numeric_results(self.dialect, every > 1), {
            "job": job_id, "name": name, "every": every}).all()
        return [(int(index), float(value)) for index, value in rows
                if value is not None and math.isfinite(float(value))]

    def queued_by_owner(self) -> dict[str, int]:
        return self.counters.queued_by_owner()

    def tally_by_job(self, job_ids: Sequence[str]) -> dict[str, RunTally]:
        return self.counters.by_job(job_ids)

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
