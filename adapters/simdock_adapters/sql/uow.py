"""The SQL unit of work: one connection and its transaction per block."""

from __future__ import annotations

import threading
import weakref
from types import TracebackType
from typing import Self

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from simdock.errors import ServiceUnavailable
from simdock.repositories import UnitOfWork
from simdock_adapters.sql.engine import unavailable
from simdock_adapters.sql.repositories import (
    SqlApiTokenRepository,
    SqlArtifactRepository,
    SqlJobRepository,
    SqlLoginFailureRepository,
    SqlLogRepository,
    SqlMachineRepository,
    SqlMetricRepository,
    SqlPointRepository,
    SqlReportRepository,
    SqlRunRepository,
    SqlUserRepository,
    SqlWorkerRepository,
)

_UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError)
_SQLITE_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = (
    weakref.WeakKeyDictionary())
_LOCKS_GUARD = threading.Lock()


def _sqlite_writer_lock(engine: Engine) -> threading.RLock | None:
    """One lock per SQLite engine: its threads take turns in this process.

    Every SQLite unit of work holds the database's write lock from BEGIN, and
    SQLite makes a waiting writer sleep in growing steps; queueing on a Python
    lock instead hands the database over at once. Other processes still meet
    SQLite's own lock (and its busy timeout).
    """
    if engine.dialect.name != "sqlite":
        return None
    with _LOCKS_GUARD:
        lock = _SQLITE_WRITER_LOCKS.get(engine)
        if lock is None:
            lock = _SQLITE_WRITER_LOCKS[engine] = threading.RLock()
        return lock


class SqlUnitOfWork(UnitOfWork):
    """Repositories over one transaction; rolled back unless committed.

    Database connection failures surface as ServiceUnavailable, never as a
    driver traceback: callers are told the database is unavailable, operators
    (through the error's detail) where it is and what the driver said.
    """

    def __init__(self, engine: Engine, autocommit: bool = False) -> None:
        """``autocommit``: each statement commits at once, with no transaction around
        them: for reading, where it saves the BEGIN and ROLLBACK round trips."""
        self.engine = engine
        self.connection: sa.Connection | None = None
        self._autocommit = autocommit
        self._writer_lock = None if autocommit else _sqlite_writer_lock(engine)

    def __enter__(self) -> Self:
        if self._writer_lock is not None:
            self._writer_lock.acquire()
        try:
            connection = self.engine.connect()
            if self._autocommit:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        except _UNREACHABLE as exc:
            self._release()
            raise self._unavailable(exc) from exc
        except BaseException:
            self._release()
            raise
        self.connection = connection
        self.jobs = SqlJobRepository(connection)
        self.runs = SqlRunRepository(connection)
        self.reports = SqlReportRepository(connection)
        self.machines = SqlMachineRepository(connection)
        self.users = SqlUserRepository(connection)
        self.tokens = SqlApiTokenRepository(connection)
        self.logs = SqlLogRepository(connection)
        self.metrics = SqlMetricRepository(connection)
        self.artifacts = SqlArtifactRepository(connection)
        self.login_failures = SqlLoginFailureRepository(connection)
        self.workers = SqlWorkerRepository(connection)
        self.points = SqlPointRepository(connection)
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
        finally:
            self._release()
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

    def suspend(self) -> None:
        if self.connection is not None:
            self.connection.rollback()
        self._release()

    def resume(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.acquire()

    def _release(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.release()

    def _unavailable(self, exc: BaseException) -> ServiceUnavailable:
        return unavailable(self.engine, exc)
