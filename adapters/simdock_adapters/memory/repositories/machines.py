"""Machines in memory."""

from __future__ import annotations

import dataclasses

from simdock.domain import Machine, MachineStatus
from simdock.errors import ConcurrencyConflict, Conflict, NotFound
from simdock.paging import Ordering, Page, PageRequest
from simdock_adapters.memory.repositories.base import MemoryRepository, clone, paged


class MemoryMachineRepository(MemoryRepository):
    def add(self, machine: Machine) -> None:
        if machine.id in self.store.machines:
            raise Conflict(f"machine '{machine.id}' already exists")
        self._put(self.store.machines, machine.id, clone(machine))

    def get(self, machine_id: str) -> Machine | None:
        machine = self.store.machines.get(machine_id)
        return clone(machine) if machine else None

    def list(self, status: MachineStatus | None, page: PageRequest) -> Page[Machine]:
        machines = [m for m in self.store.machines.values()
                    if status is None or m.status is status]
        result = paged(machines, Ordering("created_at", False), page)
        return dataclasses.replace(result, items=[clone(m) for m in result.items])

    def update(self, machine: Machine) -> None:
        stored = self.store.machines.get(machine.id)
        if stored is None:
            raise NotFound("machine", machine.id)
        if stored.version != machine.version:
            raise ConcurrencyConflict(f"machine '{machine.id}' was changed by someone else")
        machine.version += 1
        self._put(self.store.machines, machine.id, clone(machine))
