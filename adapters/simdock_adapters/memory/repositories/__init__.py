"""The repositories over a :class:`~simdock_adapters.memory.store.MemoryStore`, by aggregate:
jobs, runs, reports, machines, accounts, what runs record, workers, and replicated points."""

from simdock_adapters.memory.repositories.accounts import (
    MemoryApiTokenRepository,
    MemoryLoginFailureRepository,
    MemoryUserRepository,
)
from simdock_adapters.memory.repositories.base import Undo
from simdock_adapters.memory.repositories.jobs import MemoryJobRepository
from simdock_adapters.memory.repositories.machines import MemoryMachineRepository
from simdock_adapters.memory.repositories.points import MemoryPointRepository
from simdock_adapters.memory.repositories.records import (
    MemoryArtifactRepository,
    MemoryLogRepository,
    MemoryMetricRepository,
)
from simdock_adapters.memory.repositories.reports import MemoryReportRepository
from simdock_adapters.memory.repositories.runs import MemoryRunRepository
from simdock_adapters.memory.repositories.workers import MemoryWorkerRepository

__all__ = [
    "MemoryApiTokenRepository",
    "MemoryArtifactRepository",
    "MemoryJobRepository",
    "MemoryLogRepository",
    "MemoryLoginFailureRepository",
    "MemoryMachineRepository",
    "MemoryMetricRepository",
    "MemoryPointRepository",
    "MemoryReportRepository",
    "MemoryRunRepository",
    "MemoryUserRepository",
    "MemoryWorkerRepository",
    "Undo",
]
