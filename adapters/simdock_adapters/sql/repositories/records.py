"""What runs record in SQL: log lines, metric points, artifacts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa

from simdock.domain import Artifact, LogLine, MetricPoint
from simdock.errors import ConcurrencyConflict
from simdock_adapters.sql import mappers
from simdock_adapters.sql.repositories.base import SqlRepository, among
from simdock_adapters.sql.tables import artifacts, metric_points, run_logs

_LAST_SEQ = sa.select(sa.func.max(run_logs.c.seq)).where(
    run_logs.c.run_id == sa.bindparam("run_id"))


class SqlLogRepository(SqlRepository):
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

    def list(self, run_id: str, after_seq: int = 0, limit: int | None = None,
             containing: str | None = None, through_seq: int | None = None
             ) -> list[LogLine]:
        statement = (sa.select(run_logs).where(run_logs.c.run_id == run_id,
                                               run_logs.c.seq > after_seq)
                     .order_by(run_logs.c.seq))
        if through_seq is not None:
            statement = statement.where(run_logs.c.seq <= through_seq)
        if containing is not None:
            statement = statement.where(run_logs.c.message.icontains(containing,
                                                                     autoescape=True))
        if limit is not None:
            statement = statement.limit(limit)
        return [mappers.log_entity(row) for row in self.connection.execute(statement)]

    def last_seq(self, run_id: str) -> int:
        return int(self.connection.execute(_LAST_SEQ, {"run_id": run_id}).scalar_one() or 0)


_DISCARD_POINTS = metric_points.delete().where(
    metric_points.c.run_id.in_(sa.bindparam("run_ids", expanding=True)))


class SqlMetricRepository(SqlRepository):
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


class SqlArtifactRepository(SqlRepository):
    def add(self, artifact: Artifact) -> None:
        self.connection.execute(artifacts.delete().where(
            artifacts.c.run_id == artifact.run_id, artifacts.c.name == artifact.name))
        self.connection.execute(artifacts.insert().values(
            run_id=artifact.run_id, name=artifact.name, blob_key=artifact.blob_key,
            size=artifact.size, content_type=artifact.content_type,
            created_at=artifact.created_at))

    def add_many(self, new: Sequence[Artifact]) -> None:
        if new:
            self.connection.execute(artifacts.insert(), [
                {"run_id": a.run_id, "name": a.name, "blob_key": a.blob_key, "size": a.size,
                 "content_type": a.content_type, "created_at": a.created_at} for a in new])

    def for_runs(self, run_ids: Collection[str]) -> dict[str, list[Artifact]]:
        found: dict[str, list[Artifact]] = {}
        wanted = sorted(set(run_ids))
        if not wanted:
            return found
        for condition in among(artifacts.c.run_id, wanted, self.dialect):
            rows = self.connection.execute(sa.select(artifacts).where(condition).order_by(
                artifacts.c.run_id, artifacts.c.name))
            for row in rows:
                found.setdefault(row.run_id, []).append(mappers.artifact_entity(row))
        return found


    def list(self, run_id: str) -> list[Artifact]:
        rows = self.connection.execute(
            sa.select(artifacts).where(artifacts.c.run_id == run_id).order_by(artifacts.c.name))
        return [mappers.artifact_entity(row) for row in rows]

    def get(self, run_id: str, name: str) -> Artifact | None:
        row = self.connection.execute(sa.select(artifacts).where(
            artifacts.c.run_id == run_id, artifacts.c.name == name)).first()
        return mappers.artifact_entity(row) if row is not None else None
