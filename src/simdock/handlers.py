"""The handler plugin API: the code that executes runs and generates reports.

A simulation handler is registered under a simulation type::

    from simdock.handlers import SimulationHandler, SimulationHandlerRegistry

    class MonteCarloHandler(SimulationHandler):
        def execute(self, job_id, simulation_type, parameters, progress_callback=None):
            ...
            if progress_callback:
                progress_callback(0.5)
            return {"output": ..., "statistics": ...}

    SimulationHandlerRegistry.register("monte_carlo", MonteCarloHandler())

``progress_callback`` is the run's context: calling it reports progress, and
it also has ``log(message)``, ``metric(name, value, step)`` and
``artifact(name, bytes_or_path)`` for handlers that want to emit more.
Calling it raises :class:`~simdock.errors.RunCancelled` once the run has been
cancelled or has timed out, which is how long handlers stop early.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast

from simdock.domain.run_identity import Declared
from simdock.errors import UnknownReportType, UnknownSimulationType, ValidationError

ProgressCallback = Callable[[float], None]


class SimulationHandler(ABC):
    """Executes one run of a simulation type."""

    #: Whether each run's results archive (a zip of what its attempt left) is built as the
    #: run ends, so that it is ready when the run is seen finished; otherwise it is built
    #: on first demand.
    archives_results: ClassVar[bool] = False
    #: The parameter in which a run takes its random seed, for a handler whose runs draw
    #: random numbers: what adaptive replication sets to a new seed for each replicate.
    #: None (the default) for a handler that declares none; it cannot be replicated.
    seed_parameter: ClassVar[str | None] = None
    #: The version of the handler's code: a run is reused by a later run of the same
    #: version, parameters and seed (:mod:`simdock.domain.run_identity`); change it when a
    #: change of the code changes results. None (the default): its runs are never reused.
    version: ClassVar[str | None] = None
    #: False for a handler whose runs must always execute (one that reads the outside
    #: world, say), whatever its version.
    reusable: ClassVar[bool] = True

    def declared(self) -> Declared:
        """What this handler declares about its runs, as the Executor port reports it."""
        return Declared(seed_parameter=self.seed_parameter,
                        version=self.version if self.reusable else None)

    def unseeded(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """A run's parameters without its seed: what the runs of one parameter point share
        (a report summarises runs that differ only by seed together). The default leaves
        out ``seed_parameter``; a handler whose seed is elsewhere says where."""
        return {k: v for k, v in parameters.items() if k != self.seed_parameter}

    @abstractmethod
    def execute(
        self,
        job_id: str,
        simulation_type: str,
        parameters: Mapping[str, Any],
        progress_callback: ProgressCallback | None = None,
    ) -> Any:
        """Run the simulation and return its result (JSON-able; numpy arrays allowed).

        ``job_id`` is the id of the run being executed (one parameter set).
        """

    def validate(self, parameters: Mapping[str, Any]) -> None:  # noqa: B027
        """Reject parameters that can never run, before anything is queued.

        Raise :class:`~simdock.errors.InvalidParameters` (or ``ValueError``)
        with a message naming the parameter. The default accepts everything.
        """

    def memory_needed(self, parameters: Mapping[str, Any]) -> int | None:
        """About how many bytes a run with these (valid) parameters needs at its peak.

        An executor that runs handlers in its own process refuses, at submission,
        parameters needing more than one run may use there; None (the default)
        says the handler cannot tell.
        """
        return None


class ReportHandler(ABC):
    """Generates one report type from run results."""

    #: The output formats this handler can produce (lower case).
    formats: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def generate(
        self,
        report_id: str,
        report_type: str,
        output_format: str,
        parameters: Mapping[str, Any],
        simulation_results: list[dict[str, Any]],
    ) -> tuple[bytes, str, str]:
        """Return ``(content, content_type, filename)``."""


H = TypeVar("H")


class _OnDefaultWhenCalledOnClass:
    """Lets ``Registry.register(...)`` on the class act on the process-wide default."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __get__(self, obj: Any, cls: type[Any]) -> Callable[..., Any]:
        return functools.partial(self.func, obj if obj is not None else cls.default())


class _Registry(Generic[H]):
    """Names to handlers, with fallbacks consulted in order for missing names.

    Each platform has its own registry falling back to the process-wide
    default and then to the installed plugins, so the seed's
    ``SimulationHandlerRegistry.register(...)`` is seen by every platform and
    overrides a plugin, while ``dock.register_handler(...)`` stays local.
    """

    _defaults: ClassVar[dict[type[Any], Any]] = {}
    _unknown: ClassVar[type[ValidationError]] = ValidationError

    def __init__(self, *fallbacks: _Registry[H]) -> None:
        self._handlers: dict[str, H] = {}
        self._fallbacks = fallbacks

    @classmethod
    def default(cls) -> Any:
        """The process-wide registry of this kind."""
        if cls not in _Registry._defaults:
            _Registry._defaults[cls] = cls()
        return _Registry._defaults[cls]

    @_OnDefaultWhenCalledOnClass
    def register(self, name: str, handler: H) -> None:
        """Register (or replace) the handler for ``name``."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("a handler name must be a non-empty string")
        self._handlers[name] = handler

    @_OnDefaultWhenCalledOnClass
    def unregister(self, name: str) -> None:
        self._handlers.pop(name, None)

    @_OnDefaultWhenCalledOnClass
    def find(self, name: str) -> H | None:
        """The handler for ``name`` here or in the first fallback that has it, or None."""
        handler = self._handlers.get(name)
        for fallback in self._fallbacks:
            if handler is not None:
                break
            handler = fallback.find(name)
        return handler

    @_OnDefaultWhenCalledOnClass
    def get(self, name: str) -> H:
        """The handler for ``name``; raises a typed error listing the known names."""
        handler = self.find(name)
        if handler is None:
            known = ", ".join(self.names()) or "none registered"
            raise self._unknown(f"unknown {self._kind()} '{name}'; known: {known}")
        return cast(H, handler)

    @_OnDefaultWhenCalledOnClass
    def names(self) -> list[str]:
        names = set(self._handlers)
        for fallback in self._fallbacks:
            names.update(fallback.names())
        return sorted(names)

    @classmethod
    def _kind(cls) -> str:
        return "type"


class SimulationHandlerRegistry(_Registry[SimulationHandler]):
    """Simulation type -> handler."""

    _unknown = UnknownSimulationType

    @classmethod
    def _kind(cls) -> str:
        return "simulation type"


class ReportHandlerRegistry(_Registry[ReportHandler]):
    """Report type -> handler."""

    _unknown = UnknownReportType

    @classmethod
    def _kind(cls) -> str:
        return "report type"
