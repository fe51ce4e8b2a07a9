"""Fakes of the ports for unit tests of the core, and a platform built from them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from simdock.clock import ManualClock, SequentialIds
from simdock.domain import User
from simdock.errors import InvalidParameters, UnknownSimulationType
from simdock.handlers import ReportHandlerRegistry, SimulationHandlerRegistry
from simdock.platform import Limits, Platform
from simdock.ports import ExecutionTask, ParameterCheck, RunContext, Work
from simdock.reporting import SummaryReportHandler
from simdock.usecases.worker_loop import PlatformWork
from simdock_adapters.blobs.memory import MemoryBlobStore
from simdock_adapters.memory import MemoryStore, MemoryUnitOfWork

SimFunction = Callable[[Mapping[str, Any], RunContext], Any]
#: A user who may change any machine.
ADMIN = User("usr-admin", "admin@example.com", datetime(2026, 1, 1, tzinfo=UTC), is_admin=True)


class FakeExecutor:
    """Runs plain functions inline: simulation type -> fn(parameters, context)."""

    def __init__(self, functions: Mapping[str, SimFunction] | None = None) -> None:
        self.functions: dict[str, SimFunction] = dict(functions or {})
        self.required: dict[str, set[str]] = {}
        self.executed: list[str] = []
        #: Every task executed, as the executor got it.
        self.tasks: list[ExecutionTask] = []

    def checker(self, simulation_type: str) -> ParameterCheck | None:
        if simulation_type not in self.functions:
            raise UnknownSimulationType(f"unknown simulation type '{simulation_type}'")
        required = self.required.get(simulation_type, set())

        def check(parameters: Mapping[str, Any]) -> None:
            missing = required - set(parameters)
            if missing:
                raise InvalidParameters(f"missing parameter(s): {', '.join(sorted(missing))}")

        return check

    def simulation_types(self) -> list[str]:
        return sorted(self.functions)

    def execute(self, task: ExecutionTask, context: RunContext) -> Any:
        self.executed.append(task.run_id)
        self.tasks.append(task)
        return self.functions[task.simulation_type](task.parameters, context)


class QueueDispatcher:
    """Keeps dispatched ids until the test drains them, so tests choose the order."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.reports: list[str] = []
        self._work: Work | None = None

    def bind(self, work: Work) -> None:
        self._work = work

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        self.runs.extend(run_ids)

    def dispatch_report(self, report_id: str) -> None:
        self.reports.append(report_id)

    def drain(self) -> None:
        assert self._work is not None
        while self.runs or self.reports:
            if self.runs:
                self._work.execute_run(self.runs.pop(0))
            else:
                self._work.generate_report(self.reports.pop(0))

    def join(self, timeout: float | None = None) -> bool:
        return not (self.runs or self.reports)

    def close(self) -> None:
        return None

    broker = None

    def check(self) -> None:
        return None


def make_platform(executor: FakeExecutor | None = None, limits: Limits | None = None
                  ) -> Platform:
    """A platform of fakes: memory store and blobs, manual clock, sequential ids."""
    store = MemoryStore()
    reports = ReportHandlerRegistry()
    reports.register("summary", SummaryReportHandler())
    platform = Platform(
        store=lambda: MemoryUnitOfWork(store),
        blobs=MemoryBlobStore(),
        executor=executor or FakeExecutor({"echo": lambda p, c: {"echo": dict(p)}}),
        dispatcher=QueueDispatcher(),
        clock=ManualClock(),
        ids=SequentialIds(),
        simulations=SimulationHandlerRegistry(),
        reports=reports,
        limits=limits or Limits(progress_interval_seconds=0.0),
    )
    platform.dispatcher.bind(PlatformWork(platform))
    return platform
