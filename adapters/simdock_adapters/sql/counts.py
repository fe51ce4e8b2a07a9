"""Run counts kept by triggers, read without scanning runs: by owner and status, and
by job and status (with the runs' progress summed).

Triggers on ``runs`` (created by the migrations) append delta rows to
``run_status_counts`` (owner, status, delta) and ``job_run_counts`` (job, status, runs,
progress) on every insert, delete and change that moves a run between them. Reading
sums those rows; once a read sums too many they are folded into one row per key,
concurrently safe because each fold deletes exactly the rows it re-inserts as sums.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from simdock.domain import RunStatus
from simdock.tallies import RunTally
from simdock_adapters.sql.queries import status_counts
from simdock_adapters.sql.tables import job_run_counts as by_job
from simdock_adapters.sql.tables import run_status_counts as counts

COMPACT_AFTER_ROWS = 200
#: A job's rows are folded sooner: its summary is read on every refresh of its page.
COMPACT_JOB_AFTER_ROWS = 50
_QUEUED_BY_OWNER = (sa.select(counts.c.owner_id, sa.func.sum(counts.c.delta))
                    .where(counts.c.status == RunStatus.QUEUED.value)
                    .group_by(counts.c.owner_id).order_by(counts.c.owner_id))
_BY_JOB = (sa.select(by_job.c.job_id, by_job.c.status, sa.func.sum(by_job.c.runs),
                     sa.func.sum(by_job.c.progress), sa.func.count())
           .where(by_job.c.job_id.in_(sa.bindparam("jobs", expanding=True)))
           .group_by(by_job.c.job_id, by_job.c.status))


class StatusCounts:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def read(self, owner_id: str | None = None) -> dict[RunStatus, int]:
        """How many runs are in each status (for one owner, or everyone); the delta rows
        summed are folded into one row each once this read found too many of them."""
        statement = sa.select(counts.c.status, sa.func.sum(counts.c.delta),
                              sa.func.count()).group_by(counts.c.status)
        if owner_id is not None:
            statement = statement.where(counts.c.owner_id == owner_id)
        rows = self.connection.execute(statement).all()
        if sum(summed for _, _, summed in rows) >= COMPACT_AFTER_ROWS and self._may_compact():
            high = self.connection.execute(sa.select(sa.func.max(counts.c.number))).scalar()
            if high is not None:
                self.compact(high)
        return status_counts((status, total) for status, total, _ in rows)

    def by_job(self, job_ids: Sequence[str]) -> dict[str, RunTally]:
        """Each job's runs counted by status, and their progress summed by status (an
        empty tally for a job without runs); a job whose rows were too many is folded."""
        found: dict[str, dict[RunStatus, tuple[int, float]]] = {job: {} for job in job_ids}
        rows: dict[str, int] = {}
        if job_ids:
            for job_id, status, runs, progress, summed in self.connection.execute(
                    _BY_JOB, {"jobs": list(job_ids)}):
                if runs:
                    found[job_id][RunStatus(status)] = (int(runs), max(0.0, float(progress)))
                rows[job_id] = rows.get(job_id, 0) + summed
        crowded = [job for job, summed in rows.items() if summed >= COMPACT_JOB_AFTER_ROWS]
        if crowded and self._may_compact():
            _fold(self.connection, by_job, (by_job.c.job_id, by_job.c.status),
                  (by_job.c.runs, by_job.c.progress), by_job.c.job_id.in_(crowded))
        return {job: RunTally({status: n for status, (n, _) in tally.items()},
                              {status: reached for status, (_, reached) in tally.items()})
                for job, tally in found.items()}

    def queued_by_owner(self) -> dict[str, int]:
        """How many runs each owner has queued, summed from the delta rows."""
        rows = self.connection.execute(_QUEUED_BY_OWNER).all()
        return {owner: int(total) for owner, total in rows if total}

    def _may_compact(self) -> bool:
        """SQLite compacts in several statements: only under its write lock."""
        return not (self.connection.dialect.name == "sqlite" and self.connection
                    .get_execution_options().get("isolation_level") == "AUTOCOMMIT")

    def compact(self, up_to: int) -> None:
        """Fold delta rows numbered up to ``up_to`` into one row per (owner, status)."""
        _fold(self.connection, counts, (counts.c.owner_id, counts.c.status),
              (counts.c.delta,), counts.c.number <= up_to)


def _fold(connection: sa.Connection, table: sa.Table, keys: Sequence[sa.Column[str]],
          values: Sequence[sa.Column[int] | sa.Column[float]],
          scope: sa.ColumnElement[bool]) -> None:
    """Replace the rows of ``table`` in ``scope`` by one row per key holding their sums
    (none where every sum is zero)."""
    names = [column.name for column in (*keys, *values)]
    if connection.dialect.name == "postgresql":
        moved = table.delete().where(scope).returning(*keys, *values).cte("moved")
        moved_keys = [moved.c[column.name] for column in keys]
        sums = [sa.func.sum(moved.c[column.name]) for column in values]
        connection.execute(table.insert().from_select(
            names, sa.select(*moved_keys, *sums).group_by(*moved_keys)
            .having(sa.or_(*(total != 0 for total in sums)))))
        return
    # SQLite: only reached inside a transaction, which holds the only write lock.
    rows = connection.execute(sa.select(*keys, *(sa.func.sum(column) for column in values))
                              .where(scope).group_by(*keys)).all()
    connection.execute(table.delete().where(scope))
    kept = [dict(zip(names, row, strict=True)) for row in rows if any(row[len(keys):])]
    if kept:
        connection.execute(table.insert(), kept)
