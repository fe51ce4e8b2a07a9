"""The machine: a compute resource runs can be placed on (seed 002)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from simdock.domain.status import MachineStatus
from simdock.domain.user import User


@dataclass(eq=False)
class Machine:
    """A shared compute resource; its creator and administrators may change it."""

    id: str
    name: str
    cpu: str
    gpu: str | None
    memory_gb: float
    created_at: datetime
    status: MachineStatus = MachineStatus.AVAILABLE
    updated_at: datetime | None = None
    version: int = 0
    created_by: str | None = None

    @property
    def accepts_runs(self) -> bool:
        return self.status is not MachineStatus.MAINTENANCE

    def may_be_changed_by(self, user: User) -> bool:
        """Whether ``user`` may change it: an administrator, or the user who created it."""
        return user.is_admin or (self.created_by is not None and self.created_by == user.id)

    def set_status(self, status: MachineStatus, now: datetime) -> None:
        self.status = status
        self.updated_at = now
