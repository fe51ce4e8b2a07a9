"""Reports in SQL."""

from __future__ import annotations

import sqlalchemy as sa

from simdock.domain import Report, ReportStatus
from simdock.paging import Ordering, Page, PageRequest
from simdock_adapters.sql import mappers
from simdock_adapters.sql.queries import order_by, page
from simdock_adapters.sql.repositories.base import SqlRepository
from simdock_adapters.sql.tables import reports


class SqlReportRepository(SqlRepository):
    def add(self, report: Report) -> None:
        self._insert_new(reports, mappers.report_row(report), "report")

    def get(self, report_id: str) -> Report | None:
        row = self.connection.execute(sa.select(reports).where(reports.c.id == report_id)).first()
        return mappers.report_entity(row) if row is not None else None

    def list(self, owner_id: str | None, statuses: frozenset[ReportStatus] | None,
             page_request: PageRequest) -> Page[Report]:
        conditions = []
        if owner_id is not None:
            conditions.append(reports.c.owner_id == owner_id)
        if statuses is not None:
            conditions.append(reports.c.status.in_(sorted(s.value for s in statuses)))
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(reports).where(*conditions)).scalar_one()
        statement = sa.select(reports).where(*conditions).order_by(
            *order_by(reports.c.created_at, reports.c.number, Ordering("created_at", True)))
        rows = self.connection.execute(page(statement, page_request))
        return Page([mappers.report_entity(row) for row in rows], total, page_request.page,
                    page_request.page_size)

    def update(self, report: Report) -> None:
        row = mappers.report_row(report)
        del row["id"], row["version"]
        self._guarded_update(reports, report.id, report.version, row, "report")
        report.version += 1
