"""Reports in memory."""

from __future__ import annotations

import dataclasses

from simdock.domain import Report, ReportStatus
from simdock.errors import ConcurrencyConflict, Conflict, NotFound
from simdock.paging import Ordering, Page, PageRequest
from simdock_adapters.memory.repositories.base import MemoryRepository, clone, paged


class MemoryReportRepository(MemoryRepository):
    def add(self, report: Report) -> None:
        if report.id in self.store.reports:
            raise Conflict(f"report '{report.id}' already exists")
        self._put(self.store.reports, report.id, clone(report))

    def get(self, report_id: str) -> Report | None:
        report = self.store.reports.get(report_id)
        return clone(report) if report else None

    def list(self, owner_id: str | None, statuses: frozenset[ReportStatus] | None,
             page: PageRequest) -> Page[Report]:
        reports = [r for r in self.store.reports.values()
                   if (owner_id is None or r.owner_id == owner_id)
                   and (statuses is None or r.status in statuses)]
        result = paged(reports, Ordering("created_at", True), page)
        return dataclasses.replace(result, items=[clone(r) for r in result.items])

    def update(self, report: Report) -> None:
        stored = self.store.reports.get(report.id)
        if stored is None:
            raise NotFound("report", report.id)
        if stored.version != report.version:
            raise ConcurrencyConflict(f"report '{report.id}' was changed by someone else")
        report.version += 1
        self._put(self.store.reports, report.id, clone(report))
