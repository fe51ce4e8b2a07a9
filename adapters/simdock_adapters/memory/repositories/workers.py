"""Workers' heartbeats, in memory."""

from __future__ import annotations

from datetime import datetime

from simdock.domain.worker import WorkerBeat
from simdock_adapters.memory.repositories.base import MemoryRepository


class MemoryWorkerRepository(MemoryRepository):
    def beat(self, worker: WorkerBeat) -> None:
        self._put(self.store.workers, worker.name, worker)

    def since(self, at: datetime) -> list[WorkerBeat]:
        return sorted((w for w in self.store.workers.values() if w.last_beat >= at),
                      key=lambda w: w.name)

    def forget(self, before: datetime) -> int:
        silent = [name for name, w in self.store.workers.items() if w.last_beat < before]
        for name in silent:
            self._pop(self.store.workers, name)
        return len(silent)
