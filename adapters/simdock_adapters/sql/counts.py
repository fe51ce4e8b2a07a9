"""Run counts by owner and status, kept by triggers, read without scanning runs.

Triggers on ``runs`` (created by the migrations) append
``(owner_id, status, delta)`` rows to ``run_status_counts`` on every insert,
status change and delete. Reading sums those rows; once they pile up they are
folded into one row per (owner, status), concurrently safe because each
compaction deletes exactly the rows it re-inserts as sums.
"""

from __future__ import annotations

import sqlalchemy as sa

from simdock.domain import RunStatus
from simdock_adapters.sql.queries import status_counts
from simdock_adapters.sql.tables import run_status_counts as counts

COMPACT_AFTER_ROWS = 200
_QUEUED_BY_OWNER = (sa.select(counts.c.owner_id, sa.func.sum(counts.c.delta))
                    .where(counts.c.status == RunStatus.QUEUED.value)
                    .group_by(counts.c.owner_id).order_by(counts.c.owner_id))


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
        scope = counts.c.number <= up_to
        if self.connection.dialect.name == "postgresql":
            moved = (counts.delete().where(scope)
                     .returning(counts.c.owner_id, counts.c.status, counts.c.delta)
                     .cte("moved"))
            self.connection.execute(counts.insert().from_select(
                ["owner_id", "status", "delta"],
                sa.select(moved.c.owner_id, moved.c.status, sa.func.sum(moved.c.delta))
                .group_by(moved.c.owner_id, moved.c.status)))
            return
        # SQLite: only reached inside a transaction, which holds the only write lock.
        sums = self.connection.execute(
            sa.select(counts.c.owner_id, counts.c.status, sa.func.sum(counts.c.delta))
            .where(scope).group_by(counts.c.owner_id, counts.c.status)).all()
        self.connection.execute(counts.delete().where(scope))
        if sums:
            self.connection.execute(counts.insert(), [
                {"owner_id": owner, "status": status, "delta": int(total)}
                for owner, status, total in sums if total])
