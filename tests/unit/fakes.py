"""Fakes of the ports for unit tests of the core, and a platform built from them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from simdock.clock import ManualClock, SequentialIds
from simdock.domain import User
from simdock.domain.run_identity import Declared
from simdock.errors import InvalidParameters, UnknownSimulationType
from simdock.execution import Execution
from simdock.handlers import ReportHandlerRegistry, SimulationHandlerRegistry
from simdock.limits import Limits
from simdock.platform import Platform
from simdock.ports import ExecutionTask, ParameterCheck, RunContext, Work
from simdock.reporting import SummaryReportHandler
from simdock.repositories import UnitOfWork, UnitOfWorkFactory
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
        #: Each simulation type's seed parameter, where it declares one.
        self.seeds: dict[str, str] = {}
        #: Each simulation type's version, where it declares one (its runs may be reused).
        self.versions: dict[str, str] = {}
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

    def declared(self, simulation_type: str) -> Declared:
        self.checker(simulation_type)
        return Declared(self.seeds.get(simulation_type), self.versions.get(simulation_type))

    def unseeded(self, simulation_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        seed = self.seeds.get(simulation_type)
        return {k: v for k, v in parameters.items() if k != seed}

    def execute(self, task: ExecutionTask, context: RunContext) -> Any:
        self.executed.append(task.run_id)
        self.tasks.append(task)
        return self.functions[task.simulation_type](task.parameters, context)


class QueueDispatcher:
    """Keeps dispatched ids until the test drains them, so tests choose the order."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.reports: list[str] = []
        self.work: Work | None = None

    def bind(self, work: Work) -> None:
        self.work = work

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        self.runs.extend(run_ids)

    def dispatch_report(self, report_id: str) -> None:
        self.reports.append(report_id)

    def drain(self) -> None:
        assert self.work is not None
        while self.runs or self.reports:
            if self.runs:
                self.work.execute_run(self.runs.pop(0))
            else:
                self.work.generate_report(self.reports.pop(0))

    def join(self, timeout: float | None = None) -> bool:
        return not (self.runs or self.reports)

    def close(self) -> None:
        return None

    broker = None

    def check(self) -> None:
        return None


class SwitchableStore:
    """The store factory of a platform :func:`make_platform` made: a test swaps what it
    opens (``factory``) to make the store go away, or lose answers, and come back."""

    def __init__(self, factory: UnitOfWorkFactory) -> None:
        self.factory = factory

    def __call__(self) -> UnitOfWork:
        return self.factory()


def switchable(platform: Platform) -> SwitchableStore:
    """The store of a platform :func:`make_platform` made, to swap."""
    assert isinstance(platform.store, SwitchableStore)
    return platform.store


def make_platform(executor: FakeExecutor | None = None, limits: Limits | None = None,
                  **wiring: Any) -> Platform:
    """A platform of fakes: memory store and blobs, manual clock, sequential ids; ``wiring``
    names what to wire instead (``store``, ``dispatcher``, ``credentials``...)."""
    store = MemoryStore()
    reports = ReportHandlerRegistry()
    reports.register("summary", SummaryReportHandler())
    execution = Execution()
    platform = Platform(**{
        "store": SwitchableStore(lambda: MemoryUnitOfWork(store)),
        "blobs": MemoryBlobStore(),
        "executor": executor or FakeExecutor({"echo": lambda p, c: {"echo": dict(p)}}),
        "dispatcher": QueueDispatcher(),
        "clock": ManualClock(),
        "ids": SequentialIds(),
        "simulations": SimulationHandlerRegistry(),
        "reports": reports,
        "limits": limits or Limits(progress_interval_seconds=0.0),
        "stops": execution,
        **wiring,
    })
    platform.dispatcher.bind(platform.work(execution))
    platform.on_close.append(lambda: execution.close(platform.dispatcher.close))
    return platform


def execution_of(platform: Platform) -> Execution:
    """The execution side of a platform :func:`make_platform` made."""
    assert isinstance(platform.stops, Execution)
    return platform.stops


def work_of(platform: Platform) -> PlatformWork:
    """The execution-side use cases a platform :func:`make_platform` made is bound to."""
    assert isinstance(platform.dispatcher, QueueDispatcher)
    assert isinstance(platform.dispatcher.work, PlatformWork)
    return platform.dispatcher.work
