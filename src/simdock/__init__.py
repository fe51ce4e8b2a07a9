"""simdock: a simulation-agnostic backend for running simulations and reporting on them.

``simdock.connect()`` gives an embedded platform; see :mod:`simdock.notebook`.
"""

from simdock.connect import connect
from simdock.errors import (
    ConcurrencyConflict,
    Conflict,
    ExecutionError,
    HandlerFailed,
    InvalidParameters,
    InvalidSweep,
    InvalidTransition,
    LimitExceeded,
    NotFound,
    RunCancelled,
    RunTimedOut,
    SimdockError,
    TooManyRequests,
    UnknownReportType,
    UnknownSimulationType,
    ValidationError,
)
from simdock.handlers import (
    ReportHandler,
    ReportHandlerRegistry,
    SimulationHandler,
    SimulationHandlerRegistry,
)
from simdock.notebook import Dock, JobHandle, ReportHandle, SweepHandle

__version__ = "0.1.0"

__all__ = [
    "ConcurrencyConflict",
    "Conflict",
    "Dock",
    "ExecutionError",
    "HandlerFailed",
    "InvalidParameters",
    "InvalidSweep",
    "InvalidTransition",
    "JobHandle",
    "LimitExceeded",
    "NotFound",
    "ReportHandle",
    "ReportHandler",
    "ReportHandlerRegistry",
    "RunCancelled",
    "RunTimedOut",
    "SimdockError",
    "SimulationHandler",
    "SimulationHandlerRegistry",
    "SweepHandle",
    "TooManyRequests",
    "UnknownReportType",
    "UnknownSimulationType",
    "ValidationError",
    "__version__",
    "connect",
]
