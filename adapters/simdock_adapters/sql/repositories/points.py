"""The points of replicated jobs in SQL: a row each, locked (``FOR UPDATE`` on PostgreSQL;
SQLite has one writer) while a replicate's end is counted."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from simdock.domain.replication import Moments, Outcome, ReplicatePoint
from simdock.errors import NotFound
from simdock_adapters.sql.repositories.base import SqlRepository
from simdock_adapters.sql.tables import replicate_points as points

_SOME = (sa.select(points)
         .where(points.c.job_id == sa.bindparam("job"),
                points.c.point.in_(sa.bindparam("points", expanding=True)))
         .order_by(points.c.point))
#: In point order, so that two units of work locking points of a job never each hold one
#: the other waits for.
_LOCKED = _SOME.with_for_update()
_OF_JOB = sa.select(points).where(points.c.job_id == sa.bindparam("job")).order_by(points.c.point)
#: What a replicate's end changes of its point: one statement, compiled once (it runs at
#: every replicate's end).
_CHANGED = ("planned", "finished", "failed", "missing", "n", "mean", "m2", "outcome", "reason")
_UPDATE = (points.update()
           .where(points.c.job_id == sa.bindparam("match_job"),
                  points.c.point == sa.bindparam("match_point"))
           .values({name: sa.bindparam(name) for name in _CHANGED}))


class SqlPointRepository(SqlRepository):
    def add_many(self, added: Sequence[ReplicatePoint]) -> None:
        if added:
            self.connection.execute(points.insert(), [_row(point) for point in added])

    def lock(self, job_id: str, points: Collection[int]) -> dict[int, ReplicatePoint]:
        if not points:
            return {}
        statement = _LOCKED if self.dialect == "postgresql" else _SOME
        rows = self.connection.execute(statement, {"job": job_id, "points": sorted(points)})
        return {row.point: _point(row) for row in rows}

    def update(self, points: Sequence[ReplicatePoint]) -> None:
        if not points:
            return
        rows = [_row(point) for point in points]
        result = self.connection.execute(_UPDATE, [
            {"match_job": row["job_id"], "match_point": row["point"],
             **{name: row[name] for name in _CHANGED}} for row in rows])
        if result.rowcount != len(points):
            missing = next(p for p in points if not self._exists(p))
            raise NotFound("point", f"{missing.job_id}#{missing.point}")

    def _exists(self, point: ReplicatePoint) -> bool:
        return bool(self.connection.execute(_SOME, {"job": point.job_id,
                                                    "points": [point.point]}).first())

    def list(self, job_id: str) -> list[ReplicatePoint]:
        return [_point(row) for row in self.connection.execute(_OF_JOB, {"job": job_id})]


def _row(point: ReplicatePoint) -> dict[str, Any]:
    return {"job_id": point.job_id, "point": point.point, "planned": point.planned,
            "finished": point.finished, "failed": point.failed, "missing": point.missing,
            "n": point.moments.n, "mean": point.moments.mean, "m2": point.moments.m2,
            "outcome": point.outcome.value if point.outcome is not None else None,
            "reason": point.reason}


def _point(row: Any) -> ReplicatePoint:
    return ReplicatePoint(row.job_id, row.point, row.planned, row.finished, row.failed,
                          row.missing, Moments(row.n, row.mean, row.m2),
                          Outcome(row.outcome) if row.outcome is not None else None, row.reason)
