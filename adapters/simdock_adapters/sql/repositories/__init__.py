"""The repositories over one SQLAlchemy connection (the unit of work's transaction), by
aggregate: jobs, runs, reports, machines, accounts, and what runs record."""

from simdock_adapters.sql.repositories.accounts import (
    SqlApiTokenRepository,
    SqlLoginFailureRepository,
    SqlUserRepository,
)
from simdock_adapters.sql.repositories.jobs import SqlJobRepository
from simdock_adapters.sql.repositories.machines import SqlMachineRepository
from simdock_adapters.sql.repositories.points import SqlPointRepository
from simdock_adapters.sql.repositories.records import (
    SqlArtifactRepository,
    SqlLogRepository,
    SqlMetricRepository,
)
from simdock_adapters.sql.repositories.reports import SqlReportRepository
from simdock_adapters.sql.repositories.runs import SqlRunRepository
from simdock_adapters.sql.repositories.workers import SqlWorkerRepository

__all__ = [
    "SqlApiTokenRepository",
    "SqlArtifactRepository",
    "SqlJobRepository",
    "SqlLogRepository",
    "SqlLoginFailureRepository",
    "SqlMachineRepository",
    "SqlMetricRepository",
    "SqlPointRepository",
    "SqlReportRepository",
    "SqlRunRepository",
    "SqlUserRepository",
    "SqlWorkerRepository",
]
