"""The wiring binds each use-case group by the names of its fields."""

from __future__ import annotations

from dataclasses import dataclass, fields

from simdock.ports import Clock
from simdock.scope import UnitsOfWork
from simdock.usecases.cancel import Cancelling
from tests.unit.fakes import execution_of, make_platform


@dataclass(frozen=True)
class Probe:
    uow: UnitsOfWork
    clock: Clock
    extra: int


def test_a_group_gets_the_ports_its_fields_name_and_what_is_given() -> None:
    platform = make_platform()
    probe = platform.bind(Probe, extra=3)
    assert (probe.uow, probe.clock, probe.extra) == (platform.units, platform.clock, 3)
    assert platform.cancelling is platform.cancelling  # bound once
    assert {f.name for f in fields(Cancelling)} == {"uow", "clock", "stops"}
    assert platform.cancelling.stops is execution_of(platform)


def test_the_execution_side_shares_one_execution_and_one_leases() -> None:
    platform = make_platform()
    execution = execution_of(platform)
    work = platform.work(execution)
    assert work.execution is work.executing.execution is work.leases.execution is execution
    assert work.executing.leases is work.leases
