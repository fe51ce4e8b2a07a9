"""The memory unit of work: serializable by one lock, undone on rollback."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from simdock.repositories import UnitOfWork
from simdock_adapters.memory.repositories import (
    MemoryApiTokenRepository,
    MemoryArtifactRepository,
    MemoryJobRepository,
    MemoryLoginFailureRepository,
    MemoryLogRepository,
    MemoryMachineRepository,
    MemoryMetricRepository,
    MemoryPointRepository,
    MemoryReportRepository,
    MemoryRunRepository,
    MemoryUserRepository,
    MemoryWorkerRepository,
    Undo,
)
from simdock_adapters.memory.store import MemoryStore


class MemoryUnitOfWork(UnitOfWork):
    """Holds the store's lock for the block; changes not committed are undone."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._undo: list[Undo] = []
        self.jobs = MemoryJobRepository(store, self._undo)
        self.runs = MemoryRunRepository(store, self._undo)
        self.reports = MemoryReportRepository(store, self._undo)
        self.machines = MemoryMachineRepository(store, self._undo)
        self.users = MemoryUserRepository(store, self._undo)
        self.tokens = MemoryApiTokenRepository(store, self._undo)
        self.logs = MemoryLogRepository(store, self._undo)
        self.metrics = MemoryMetricRepository(store, self._undo)
        self.artifacts = MemoryArtifactRepository(store, self._undo)
        self.login_failures = MemoryLoginFailureRepository(store, self._undo)
        self.workers = MemoryWorkerRepository(store, self._undo)
        self.points = MemoryPointRepository(store, self._undo)
        self.committed = False

    def __enter__(self) -> Self:
        self.store.lock.acquire()
        self._undo.clear()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.rollback()
        finally:
            self.store.lock.release()

    def commit(self) -> None:
        self._undo.clear()
        self.committed = True

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()

    def suspend(self) -> None:
        self.rollback()
        self.store.lock.release()

    def resume(self) -> None:
        self.store.lock.acquire()
