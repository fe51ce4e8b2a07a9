"""What operators watch: the live workers, the depth of each queue and each user's share of
it, whether the backing services answer, and the machines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from simdock.domain import Machine, ReportStatus, RunStatus, User
from simdock.domain.worker import WorkerBeat
from simdock.errors import UnauthorizedOperation
from simdock.limits import Limits
from simdock.paging import PageRequest
from simdock.ports import Clock
from simdock.scope import UnitsOfWork
from simdock.usecases.health import Health

#: How many machines the overview lists.
MACHINES_SHOWN = 200
#: How many users' shares of the queue it lists (those with the most queued).
SHARES_SHOWN = 50


@dataclass(frozen=True)
class QueueShare:
    """One user's part of the simulations queue."""

    owner_id: str
    email: str | None
    queued: int


@dataclass(frozen=True)
class Overview:
    """The workers page: who executes, what waits, what answers, where runs can go."""

    #: The workers whose last heartbeat is within a lease (a worker silent longer has
    #: lost its runs to the others).
    workers: list[WorkerBeat]
    queued_runs: int
    running_runs: int
    queued_reports: int
    #: The queued runs of the SHARES_SHOWN users with the most, most first.
    shares: list[QueueShare]
    #: Each backing service, and why it does not answer (None when it does).
    services: dict[str, str | None]
    machines: list[Machine]


@dataclass(frozen=True)
class Operations:
    """What operators watch (administrators only: it spans every user)."""

    uow: UnitsOfWork
    clock: Clock
    limits: Limits
    health: Health

    def overview(self, viewer: User) -> Overview:
        """The workers, queues, services and machines; UnauthorizedOperation unless
        ``viewer`` is an administrator."""
        if not viewer.is_admin:
            raise UnauthorizedOperation("the workers and queues are shown to administrators "
                                        "only")
        since = self.clock.now() - timedelta(seconds=self.limits.lease_seconds)
        with self.uow() as uow:
            workers = uow.workers.since(since)
            counts = uow.runs.counts()
            by_owner = uow.runs.queued_by_owner()
            most = sorted(by_owner, key=lambda owner: (-by_owner[owner], owner))[:SHARES_SHOWN]
            owners = {owner: uow.users.get(owner) for owner in most}
            queued_reports = uow.reports.list(None, frozenset({ReportStatus.QUEUED}),
                                              PageRequest(1, 1)).total
            machines = uow.machines.list(None, PageRequest(1, MACHINES_SHOWN)).items
        shares = [QueueShare(owner, user.email if (user := owners[owner]) else None,
                             by_owner[owner]) for owner in most]
        return Overview(workers, counts.get(RunStatus.QUEUED, 0),
                        counts.get(RunStatus.RUNNING, 0), queued_reports, shares,
                        self.health.check_services(), machines)
