"""The SQL unit of work: one connection and its transaction per block."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from simdock.errors import ServiceUnavailable
from simdock.ports import (
    ArtifactRepository,
    JobRepository,
    LogRepository,
    MachineRepository,
    MetricRepository,
    ReportRepository,
    RunRepository,
    UserRepository,
)
from simdock_adapters.sql.engine import describe
from simdock_adapters.sql.repositories import (
    SqlArtifactRepository,
    SqlJobRepository,
    SqlLogRepository,
    SqlMachineRepository,
    SqlMetricRepository,
    SqlReportRepository,
    SqlRunRepository,
    SqlUserRepository,
)

_UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError)


class SqlUnitOfWork:
    """Repositories over one transaction; rolled back unless committed.

    Database connection failures surface as ServiceUnavailable naming where
    the database is, never as a driver traceback.
    """

    jobs: JobRepository
    runs: RunRepository
    reports: ReportRepository
    machines: MachineRepository
    users: UserRepository
    logs: LogRepository
    metrics: MetricRepository
    artifacts: ArtifactRepository

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: sa.Connection | None = None

    def __enter__(self) -> Self:
        try:
            connection = self.engine.connect()
        except _UNREACHABLE as exc:
            raise self._unavailable(exc) from exc
        self.connection = connection
        self.jobs = SqlJobRepository(connection)
        self.runs = SqlRunRepository(connection)
        self.reports = SqlReportRepository(connection)
        self.machines = SqlMachineRepository(connection)
        self.users = SqlUserRepository(connection)
        self.logs = SqlLogRepository(connection)
        self.metrics = SqlMetricRepository(connection)
        self.artifacts = SqlArtifactRepository(connection)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.rollback()
            connection.close()
        except _UNREACHABLE:
            connection.invalidate()
        if isinstance(exc, _UNREACHABLE):
            raise self._unavailable(exc) from exc

    def commit(self) -> None:
        assert self.connection is not None, "commit outside the unit of work's block"
        try:
            self.connection.commit()
        except _UNREACHABLE as exc:
            raise self._unavailable(exc) from exc

    def rollback(self) -> None:
        if self.connection is not None:
            self.connection.rollback()

    def _unavailable(self, exc: BaseException) -> ServiceUnavailable:
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()
        return ServiceUnavailable(f"cannot reach the database at {describe(self.engine)}: "
                                  f"{detail[0] if detail else type(exc).__name__}")
