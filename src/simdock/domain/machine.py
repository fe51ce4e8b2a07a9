"""The machine: a compute resource runs can be placed on (seed 002)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from simdock.domain.status import MachineStatus


@dataclass(eq=False)
class Machine:
    id: str
    name: str
    cpu: str
    gpu: str | None
    memory_gb: float
    created_at: datetime
    status: MachineStatus = MachineStatus.AVAILABLE
    updated_at: datetime | None = None
    version: int = 0

    @property
    def accepts_runs(self) -> bool:
        return self.status is not MachineStatus.MAINTENANCE

    def set_status(self, status: MachineStatus, now: datetime) -> None:
        self.status = status
        self.updated_at = now
