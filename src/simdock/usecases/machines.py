"""Machines: compute resources runs can be placed on (seed 002)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from simdock.conflicts import retry_on_conflict
from simdock.domain import Machine, MachineStatus, Run, User
from simdock.domain.text import check_text
from simdock.errors import (
    Conflict,
    NotFound,
    UnauthorizedOperation,
    ValidationError,
)
from simdock.paging import Page, PageRequest
from simdock.ports import Clock, IdGenerator
from simdock.scope import UnitsOfWork
from simdock.usecases.access import load_run, named


@dataclass(frozen=True)
class RegisterMachine:
    name: str
    cpu: str
    memory_gb: float
    gpu: str | None = None
    status: MachineStatus = MachineStatus.AVAILABLE
    #: The user registering it, who may change it later (with administrators).
    created_by: str | None = None


@dataclass(frozen=True)
class Machines:
    """Registering machines, changing their status, placing runs on them."""

    uow: UnitsOfWork
    clock: Clock
    ids: IdGenerator

    def register_machine(self, cmd: RegisterMachine) -> Machine:
        if not isinstance(cmd.name, str) or not check_text(cmd.name, "machine name").strip():
            raise ValidationError("machine name must be a non-empty string")
        if not isinstance(cmd.cpu, str) or not check_text(cmd.cpu, "machine cpu").strip():
            raise ValidationError("machine cpu must be a non-empty string")
        if cmd.gpu is not None:
            if not isinstance(cmd.gpu, str):
                raise ValidationError("machine gpu must be a string (or null)")
            check_text(cmd.gpu, "machine gpu")
        if isinstance(cmd.memory_gb, bool) or not isinstance(cmd.memory_gb, int | float) \
                or not math.isfinite(cmd.memory_gb) or cmd.memory_gb <= 0:
            raise ValidationError(f"machine memory must be a positive number of GB, "
                                  f"got {cmd.memory_gb!r}")
        now = self.clock.now()
        machine = Machine(self.ids.new("mach"), cmd.name.strip(), cmd.cpu.strip(), cmd.gpu,
                          float(cmd.memory_gb), now, MachineStatus(cmd.status), now,
                          created_by=cmd.created_by)
        with self.uow() as uow:
            uow.machines.add(machine)
            uow.commit()
        return machine

    def get_machine(self, machine_id: str) -> Machine:
        with self.uow() as uow:
            machine = uow.machines.get(named(machine_id, "machine"))
        if machine is None:
            raise NotFound("machine", machine_id)
        return machine

    def machines_of(self, runs: list[Run]) -> dict[str, Machine]:
        """The machines these runs are placed on, by id (each read once)."""
        with self.uow() as uow:
            found = {machine_id: uow.machines.get(machine_id)
                     for machine_id in {r.machine_id for r in runs if r.machine_id}}
        return {machine_id: machine for machine_id, machine in found.items() if machine}

    def list_machines(self, status: MachineStatus | None, page: PageRequest
                      ) -> Page[Machine]:
        with self.uow() as uow:
            return uow.machines.list(status, page)

    def set_machine_status(self, machine_id: str, status: str, actor: User
                           ) -> Machine:
        """Change a machine's status, as ``actor``: an administrator or the machine's creator.

        Machines are shared: putting one into maintenance refuses everyone's runs on it,
        so not every user may.
        """
        try:
            new_status = MachineStatus(status)
        except ValueError:
            known = ", ".join(s.value for s in MachineStatus)
            raise ValidationError(f"unknown machine status '{status}'; expected one of: {known}"
                                  ) from None
        with self.uow() as uow:
            machine = uow.machines.get(named(machine_id, "machine"))
            if machine is None:
                raise NotFound("machine", machine_id)
            if not machine.may_be_changed_by(actor):
                raise UnauthorizedOperation(
                    f"machine '{machine_id}' may be changed by its creator and by administrators "
                    "only")
            machine.set_status(new_status, self.clock.now())
            uow.machines.update(machine)
            uow.commit()
        return machine

    def place_run(self, run_id: str, machine_id: str | None, owner_id: str | None
                  ) -> Run:
        """Place an unfinished run on a machine that is not in maintenance (None: unplace;
        Conflict while it is in maintenance).

        A running run's progress writes may change it meanwhile: placement is then
        decided again on the fresh copy.
        """
        def place() -> Run:
            with self.uow() as uow:
                run = load_run(uow, run_id, owner_id)
                if machine_id is not None:
                    machine = uow.machines.get(named(machine_id, "machine"))
                    if machine is None:
                        raise NotFound("machine", machine_id)
                    if not machine.accepts_runs:
                        raise Conflict(f"machine '{machine_id}' is in maintenance")
                run.place_on(machine_id, self.clock.now())
                uow.runs.update(run)
                uow.commit()
            return run

        return retry_on_conflict(place, f"run '{run_id}'")
