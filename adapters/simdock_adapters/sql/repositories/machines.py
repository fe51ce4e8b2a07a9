"""Machines in SQL."""

from __future__ import annotations

import sqlalchemy as sa

from simdock.domain import Machine, MachineStatus
from simdock.paging import Ordering, Page, PageRequest
from simdock_adapters.sql import mappers
from simdock_adapters.sql.queries import order_by, page
from simdock_adapters.sql.repositories.base import SqlRepository
from simdock_adapters.sql.tables import machines


class SqlMachineRepository(SqlRepository):
    def add(self, machine: Machine) -> None:
        self._insert_new(machines, mappers.machine_row(machine), "machine")

    def get(self, machine_id: str) -> Machine | None:
        row = self.connection.execute(
            sa.select(machines).where(machines.c.id == machine_id)).first()
        return mappers.machine_entity(row) if row is not None else None

    def list(self, status: MachineStatus | None, page_request: PageRequest) -> Page[Machine]:
        conditions = [machines.c.status == status.value] if status is not None else []
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(machines).where(*conditions)).scalar_one()
        statement = sa.select(machines).where(*conditions).order_by(
            *order_by(machines.c.created_at, machines.c.number, Ordering("created_at", False)))
        rows = self.connection.execute(page(statement, page_request))
        return Page([mappers.machine_entity(row) for row in rows], total, page_request.page,
                    page_request.page_size)

    def update(self, machine: Machine) -> None:
        row = mappers.machine_row(machine)
        del row["id"], row["version"]
        self._guarded_update(machines, machine.id, machine.version, row, "machine")
        machine.version += 1
