"""One-dimensional heat equation solved with explicit finite differences (FTCS).

The rod ``0 <= x <= length`` starts with a half-sine temperature profile whose centre is at
``initial_temp`` and whose ends are at ``boundary_temp``; both ends are then held at
``boundary_temp``.  Because the initial deviation from ``boundary_temp`` is a single sine
mode, the exact solution of the continuous problem (L = length, a = diffusivity),

    u(x, t) = boundary_temp + (initial_temp - boundary_temp) sin(pi x / L) exp(-a pi^2 t / L^2),

is a convenient check of the numerical result.

The module depends only on the standard library and numpy (matplotlib is used for the plot
when it is installed), so it can be copied into a container image on its own together with
``png.py`` and ``run_sim.py``.
"""

from __future__ import annotations

import csv
import importlib
import json
import math
import numbers
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Final, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "AUTO_BLOCKED_MIN_GAP",
    "AUTO_BLOCKED_MIN_POINTS",
    "BLOCK_WIDTH",
    "CSV_NAME",
    "FIELD_NAME",
    "MAX_PROGRESS_CALLS",
    "META_NAME",
    "OUTPUT_NAMES",
    "PLOT_NAME",
    "SERIES_HEADER",
    "STABILITY_LIMIT",
    "Heat1DError",
    "Heat1DParameters",
    "Heat1DResult",
    "InvalidParameter",
    "Method",
    "UnstableTimeStep",
    "analytic_solution",
    "format_progress",
    "min_stable_time_steps",
    "peak_bytes",
    "run",
    "snapshot_steps",
    "solve",
    "write_outputs",
]

FloatArray = NDArray[np.float64]
Method = Literal["auto", "stencil", "blocked"]

STABILITY_LIMIT: Final = 0.5
# Relative slack so that r computed as exactly 0.5 in decimal is not rejected by rounding.
_STABILITY_SLACK: Final = 1e-12
MAX_SPATIAL_STEPS: Final = 100_000_000
MAX_FIELD_VALUES: Final = 200_000_000
MAX_PROGRESS_CALLS: Final = 100

BLOCK_WIDTH: Final = 64
"""Grid points per block, and most time steps per propagator, of the blocked kernel."""
AUTO_BLOCKED_MIN_POINTS: Final = 128
"""With method "auto", grids with fewer points are solved with the step-by-step kernel."""
AUTO_BLOCKED_MIN_GAP: Final = 8
"""With method "auto", snapshots closer than this many steps favour the step-by-step kernel."""

CSV_NAME: Final = "result.csv"
META_NAME: Final = "meta.json"
PLOT_NAME: Final = "simulation_results.png"
FIELD_NAME: Final = "temperature_field.npy"
OUTPUT_NAMES: Final = (CSV_NAME, META_NAME, PLOT_NAME, FIELD_NAME)
SERIES_HEADER: Final = ("time", "center_temp", "mean_temp", "max_temp")

ProgressCallback = Callable[[float], None]


class Heat1DError(ValueError):
    """Base class of the errors reported for unusable heat-equation parameters."""


class InvalidParameter(Heat1DError):
    """A parameter is unknown, has the wrong type, or is out of range."""

    def __init__(self, message: str, names: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.names = names


class UnstableTimeStep(Heat1DError):
    """The explicit scheme would be unstable: r = diffusivity*dt/dx^2 exceeds 0.5."""

    def __init__(self, message: str, r: float, min_time_steps: int) -> None:
        super().__init__(message)
        self.r = r
        self.min_time_steps = min_time_steps


# --------------------------------------------------------------------------- parameters


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


def _coerce_int(name: str, value: object) -> int:
    """The value as an int; integral floats such as 200.0 are accepted, bools are not."""
    if isinstance(value, bool):
        raise InvalidParameter(
            f"invalid parameter {name!r}: expected an integer, got {_describe(value)}", (name,)
        )
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number) or not number.is_integer():
            raise InvalidParameter(
                f"invalid parameter {name!r}: expected an integer, got {number!r}", (name,)
            )
        return int(number)
    raise InvalidParameter(
        f"invalid parameter {name!r}: expected an integer, got {_describe(value)}", (name,)
    )


def _coerce_float(name: str, value: object) -> float:
    """The value as a finite float; bools, strings, NaN and infinities are rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameter(
            f"invalid parameter {name!r}: expected a number, got {_describe(value)}", (name,)
        )
    number = float(value)
    if not math.isfinite(number):
        raise InvalidParameter(
            f"invalid parameter {name!r}: must be a finite number, got {number!r}", (name,)
        )
    return number


def _fmt(value: float) -> str:
    """A short rendering of a float that is never rounded onto the stability limit."""
    text = f"{value:.6g}"
    return repr(value) if float(text) == STABILITY_LIMIT and value != STABILITY_LIMIT else text


def _ratio_r(diffusivity: float, end_time: float, time_steps: int, dx: float) -> float:
    return diffusivity * (end_time / time_steps) / (dx * dx)


def _is_stable(r: float) -> bool:
    return r <= STABILITY_LIMIT * (1.0 + _STABILITY_SLACK)


def min_stable_time_steps(
    length: float, spatial_steps: int, diffusivity: float, end_time: float
) -> int:
    """The smallest number of time steps for which the scheme is stable on this grid."""
    dx = length / (spatial_steps - 1)
    estimate = diffusivity * end_time / (STABILITY_LIMIT * dx * dx)
    if not math.isfinite(estimate) or estimate > 2.0**53:
        raise OverflowError("the stable number of time steps is beyond any practical value")
    steps = max(1, math.ceil(estimate))
    while not _is_stable(_ratio_r(diffusivity, end_time, steps, dx)):
        steps += 1
    while steps > 1 and _is_stable(_ratio_r(diffusivity, end_time, steps - 1, dx)):
        steps -= 1
    return steps


_INT_FIELDS: Final = frozenset({"time_steps", "spatial_steps", "snapshots"})


@dataclass(frozen=True)
class Heat1DParameters:
    """Validated inputs of one heat-equation run (SI units: metres, seconds, m^2/s).

    Construction validates and normalises every field (ints for counts, floats otherwise)
    and raises :class:`InvalidParameter` or :class:`UnstableTimeStep`.
    """

    length: float = 1.0
    time_steps: int = 100
    spatial_steps: int = 21
    """Number of grid points including both boundaries."""
    diffusivity: float = 0.01
    initial_temp: float = 100.0
    """Initial temperature at the centre of the rod."""
    boundary_temp: float = 0.0
    """Temperature of both ends, held fixed."""
    end_time: float = 0.5
    snapshots: int = 101
    """How many snapshots of the field to keep, including t=0 and t=end_time."""

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            coerced: int | float
            if spec.name in _INT_FIELDS:
                coerced = _coerce_int(spec.name, value)
            else:
                coerced = _coerce_float(spec.name, value)
            object.__setattr__(self, spec.name, coerced)
        for name in ("length", "diffusivity", "end_time"):
            value = getattr(self, name)
            if value <= 0:
                raise InvalidParameter(
                    f"invalid parameter {name!r}: must be > 0, got {value!r}", (name,)
                )
        self._check_count("time_steps", 1)
        self._check_count("spatial_steps", 3)
        self._check_count("snapshots", 2)
        if self.spatial_steps > MAX_SPATIAL_STEPS:
            raise InvalidParameter(
                f"invalid parameter 'spatial_steps': must be <= {MAX_SPATIAL_STEPS}, "
                f"got {self.spatial_steps}",
                ("spatial_steps",),
            )
        kept = self.snapshot_count * self.spatial_steps
        if kept > MAX_FIELD_VALUES:
            raise InvalidParameter(
                f"invalid parameters 'snapshots' and 'spatial_steps': keeping {self.snapshot_count}"
                f" snapshots of {self.spatial_steps} points ({kept} values) exceeds the limit of "
                f"{MAX_FIELD_VALUES}; lower snapshots",
                ("snapshots", "spatial_steps"),
            )
        dx = self.dx
        if not dx * dx > 0.0:
            raise InvalidParameter(
                f"invalid parameters 'length' and 'spatial_steps': grid spacing dx={dx!r} is too "
                "small",
                ("length", "spatial_steps"),
            )
        self._check_stability()

    def _check_count(self, name: str, minimum: int) -> None:
        value = getattr(self, name)
        if value < minimum:
            raise InvalidParameter(
                f"invalid parameter {name!r}: must be >= {minimum}, got {value!r}", (name,)
            )

    def _check_stability(self) -> None:
        r = self.r
        if _is_stable(r):
            return
        try:
            needed = min_stable_time_steps(
                self.length, self.spatial_steps, self.diffusivity, self.end_time
            )
            advice = f"use time_steps >= {needed} or fewer spatial_steps"
        except OverflowError:
            needed = 0
            advice = "use a much shorter end_time, a smaller diffusivity or fewer spatial_steps"
        raise UnstableTimeStep(
            f"unstable time step: r = diffusivity*dt/dx^2 = {_fmt(r)} > {STABILITY_LIMIT} "
            f"(diffusivity={self.diffusivity:.6g}, dt={self.dt:.6g}, dx={self.dx:.6g}); {advice}",
            r,
            needed,
        )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of the accepted parameters, in declaration order."""
        return tuple(spec.name for spec in fields(cls))

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Heat1DParameters:
        """Parameters from a mapping such as parsed JSON; missing keys take the defaults."""
        if not isinstance(values, Mapping):
            raise InvalidParameter(
                f"parameters must be a mapping of names to values, got {type(values).__name__}"
            )
        accepted = cls.field_names()
        unknown = [key for key in values if key not in accepted]
        if unknown:
            names = ", ".join(repr(key) for key in unknown)
            raise InvalidParameter(
                f"unknown parameter(s) {names}; accepted parameters: {', '.join(accepted)}",
                tuple(str(key) for key in unknown),
            )
        return cls(**values)  # type: ignore[arg-type]

    @property
    def dx(self) -> float:
        """Grid spacing in metres."""
        return self.length / (self.spatial_steps - 1)

    @property
    def dt(self) -> float:
        """Time step in seconds."""
        return self.end_time / self.time_steps

    @property
    def r(self) -> float:
        """The mesh ratio diffusivity*dt/dx^2; the scheme is stable for r <= 0.5."""
        return _ratio_r(self.diffusivity, self.end_time, self.time_steps, self.dx)

    @property
    def snapshot_count(self) -> int:
        """Number of snapshots actually kept (snapshots capped at time_steps + 1)."""
        return min(self.snapshots, self.time_steps + 1)

    def to_dict(self) -> dict[str, float | int]:
        """The parameters as a JSON-able dict."""
        return asdict(self)


# --------------------------------------------------------------------------- solution


def analytic_solution(params: Heat1DParameters, x: FloatArray, t: float) -> FloatArray:
    """The exact solution of the continuous problem at positions ``x`` and time ``t``."""
    amplitude = params.initial_temp - params.boundary_temp
    decay = math.exp(-params.diffusivity * math.pi**2 * t / params.length**2)
    profile: FloatArray = np.sin(np.pi * np.asarray(x, dtype=np.float64) / params.length)
    return params.boundary_temp + amplitude * decay * profile


def snapshot_steps(time_steps: int, snapshots: int) -> NDArray[np.int64]:
    """Evenly spread, strictly increasing step indices from 0 to time_steps (inclusive)."""
    count = min(snapshots, time_steps + 1)
    if count < 2:
        raise ValueError(f"need at least 2 snapshots, got {count}")
    gaps = count - 1
    index = np.arange(count, dtype=np.int64)
    return (2 * index * time_steps + gaps) // (2 * gaps)


def _progress_steps(time_steps: int, granularity: int = 1) -> list[int]:
    """Steps after which progress is reported: at most MAX_PROGRESS_CALLS - 1 of them.

    The interval is rounded up to a multiple of ``granularity`` so that a kernel advancing
    several steps per pass is not made to stop early.
    """
    interval = max(1, math.ceil(time_steps / MAX_PROGRESS_CALLS))
    interval = math.ceil(interval / granularity) * granularity
    return list(range(interval, time_steps, interval))


def _center_value(values: FloatArray) -> float:
    """Value at x = length/2: the middle point, or the mean of the two middle points."""
    n = values.shape[-1]
    if n % 2:
        return float(values[n // 2])
    return 0.5 * (float(values[n // 2 - 1]) + float(values[n // 2]))


class _Kernel(Protocol):
    def advance(self, steps: int) -> None: ...

    def deviation(self) -> FloatArray: ...


class _StencilKernel:
    """Advances the deviation from boundary_temp one time step at a time.

    Two preallocated buffers are swapped every step and updated with in-place ufuncs:
    new[i] = r*(old[i-1] + old[i+1]) + (1-2r)*old[i].
    """

    def __init__(self, initial: FloatArray, r: float) -> None:
        self._r = r
        self._keep = 1.0 - 2.0 * r
        self._buffers = (initial.copy(), initial.copy())
        self._scratch = np.empty(initial.shape[0] - 2)
        self._current = 0

    def advance(self, steps: int) -> None:
        r, keep, scratch = self._r, self._keep, self._scratch
        add, multiply = np.add, np.multiply
        views = [(b[:-2], b[1:-1], b[2:]) for b in self._buffers]
        current = self._current
        for _ in range(steps):
            left, middle, right = views[current]
            target = views[1 - current][1]
            add(left, right, out=target)
            multiply(target, r, out=target)
            multiply(middle, keep, out=scratch)
            add(target, scratch, out=target)
            current = 1 - current
        self._current = current

    def deviation(self) -> FloatArray:
        return self._buffers[self._current]


class _BlockedKernel:
    """Advances the deviation from boundary_temp up to BLOCK_WIDTH time steps per pass.

    The grid is cut into blocks of BLOCK_WIDTH points.  After k <= BLOCK_WIDTH explicit
    steps a block depends only on itself and its two neighbours, through three fixed
    BLOCK_WIDTH x BLOCK_WIDTH matrices built from the k-fold convolution of the three-point
    stencil, so k steps become three matrix products over the whole grid.  This is the same explicit
    scheme, evaluated in a cache- and BLAS-friendly order; results agree with the
    step-by-step kernel to rounding.  The fixed ends are represented by odd reflection into
    ghost blocks, which is exact for the explicit scheme with zero boundary deviation.
    """

    def __init__(self, initial: FloatArray, r: float, width: int = BLOCK_WIDTH) -> None:
        n = initial.shape[0]
        self._n = n
        self._width = width
        rows = -(-n // width) + 2
        self._offset = width
        self._buffers = (np.zeros((rows, width)), np.zeros((rows, width)))
        self._scratch = np.empty((rows - 2, width))
        self._current = 0
        total = rows * width
        ghosts = np.concatenate(
            (np.arange(0, self._offset), np.arange(self._offset + n, total))
        ).astype(np.intp)
        period = 2 * (n - 1)
        folded = (ghosts - self._offset) % period
        mirrored = folded > n - 1
        self._ghosts = ghosts
        self._sources = (np.where(mirrored, period - folded, folded) + self._offset).astype(np.intp)
        self._signs = np.where(mirrored, -1.0, 1.0)
        self._ghost_values = np.empty(ghosts.shape[0])
        self._propagators: dict[int, tuple[FloatArray, FloatArray, FloatArray]] = {}
        self._one_step = np.array([r, 1.0 - 2.0 * r, r])
        self._kernels: list[FloatArray] = [np.ones(1)]
        flat = self._buffers[0].reshape(-1)
        flat[self._offset : self._offset + n] = initial
        self._refresh(flat)

    def _refresh(self, flat: FloatArray) -> None:
        """Pin the fixed ends to zero and refill the ghost cells by odd reflection."""
        flat[self._offset] = 0.0
        flat[self._offset + self._n - 1] = 0.0
        np.take(flat, self._sources, out=self._ghost_values)
        np.multiply(self._ghost_values, self._signs, out=self._ghost_values)
        flat[self._ghosts] = self._ghost_values

    def _kernel(self, steps: int) -> FloatArray:
        """Weights of the 2*steps+1 points that determine a value ``steps`` steps later."""
        while len(self._kernels) <= steps:
            self._kernels.append(np.convolve(self._kernels[-1], self._one_step))
        return self._kernels[steps]

    def _propagator(self, steps: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Matrices mapping the previous, own and next block to a block ``steps`` later."""
        cached = self._propagators.get(steps)
        if cached is not None:
            return cached
        weights = self._kernel(steps)
        width = self._width
        source = np.arange(width)[:, np.newaxis]
        target = np.arange(width)[np.newaxis, :]
        blocks = []
        for shift in (-width, 0, width):
            distance = source + shift - target
            inside = np.abs(distance) <= steps
            index = np.where(inside, distance + steps, 0)
            blocks.append(np.where(inside, weights[index], 0.0))
        result = (blocks[0], blocks[1], blocks[2])
        self._propagators[steps] = result
        return result

    def advance(self, steps: int) -> None:
        remaining = steps
        while remaining > 0:
            chunk = min(self._width, remaining)
            previous, own, following = self._propagator(chunk)
            source = self._buffers[self._current]
            target = self._buffers[1 - self._current]
            inner = target[1:-1]
            np.matmul(source[1:-1], own, out=inner)
            np.matmul(source[:-2], previous, out=self._scratch)
            np.add(inner, self._scratch, out=inner)
            np.matmul(source[2:], following, out=self._scratch)
            np.add(inner, self._scratch, out=inner)
            self._current = 1 - self._current
            self._refresh(target.reshape(-1))
            remaining -= chunk

    def deviation(self) -> FloatArray:
        flat = self._buffers[self._current].reshape(-1)
        return flat[self._offset : self._offset + self._n]


def _choose_method(params: Heat1DParameters, method: Method) -> Literal["stencil", "blocked"]:
    if method == "auto":
        gap = params.time_steps / (params.snapshot_count - 1)
        large = params.spatial_steps >= AUTO_BLOCKED_MIN_POINTS and gap >= AUTO_BLOCKED_MIN_GAP
        return "blocked" if large else "stencil"
    if method not in ("stencil", "blocked"):
        raise ValueError(f"unknown method {method!r}; expected 'auto', 'stencil' or 'blocked'")
    return method


@dataclass(eq=False)
class Heat1DResult:
    """Output of :func:`solve`: grid, kept snapshots, final profile and a time series.

    ``series`` has one row per snapshot with the columns of :data:`SERIES_HEADER`
    (time, centre temperature, spatial mean over the grid points, maximum).
    """

    parameters: Heat1DParameters
    x: FloatArray
    times: FloatArray
    field: FloatArray
    final: FloatArray
    series: FloatArray
    elapsed_seconds: float
    method: str = "stencil"

    def series_rows(self) -> list[tuple[float, float, float, float]]:
        """The time series as rows for result.csv, in SERIES_HEADER order."""
        return [(float(a), float(b), float(c), float(d)) for a, b, c, d in self.series]

    def analytic_final(self) -> FloatArray:
        """The exact solution at end_time on the grid."""
        return analytic_solution(self.parameters, self.x, self.parameters.end_time)

    def summary(self) -> dict[str, float | int | str]:
        """Key figures of the run as a JSON-able dict (max_temp is over the final profile)."""
        params = self.parameters
        exact = self.analytic_final()
        return {
            "final_center_temp": _center_value(self.final),
            "max_temp": float(self.final.max()),
            "analytic_center_temp": _center_value(exact),
            "max_abs_error": float(np.max(np.abs(self.final - exact))),
            "dx": params.dx,
            "dt": params.dt,
            "r": params.r,
            "time_steps": params.time_steps,
            "spatial_steps": params.spatial_steps,
            "snapshots": int(self.times.shape[0]),
            "method": self.method,
            "elapsed_seconds": self.elapsed_seconds,
        }


#: Measured peak memory of a whole run (solve, output files, plot, stored result) on top
#: of the interpreter: at most about 230 bytes per grid point and 24 per kept field value,
#: with some margin.
BYTES_PER_POINT: Final = 256
BYTES_PER_KEPT_VALUE: Final = 24


def peak_bytes(params: Heat1DParameters) -> int:
    """About how much memory a run with ``params`` needs at its peak."""
    points = params.spatial_steps
    return points * BYTES_PER_POINT + points * params.snapshot_count * BYTES_PER_KEPT_VALUE


def solve(
    params: Heat1DParameters,
    progress: ProgressCallback | None = None,
    *,
    method: Method = "auto",
) -> Heat1DResult:
    """Integrate the heat equation from t=0 to end_time.

    ``progress`` receives the completed fraction at most about 100 times during the run and
    exactly once with 1.0 at the end; an exception it raises stops the solve and propagates,
    which is how callers cancel.  The time series (centre, mean and maximum temperature) is
    recorded only at snapshot steps, so long runs pay for full-grid reductions only there.
    ``method`` selects the kernel: "stencil" updates one step at a time, "blocked" applies
    up to BLOCK_WIDTH steps per pass, "auto" picks "blocked" unless the grid is small or the
    snapshots are only a few steps apart.
    """
    started = time.perf_counter()
    kernel_name = _choose_method(params, method)
    n = params.spatial_steps
    x = np.linspace(0.0, params.length, n)
    amplitude = params.initial_temp - params.boundary_temp
    initial: FloatArray = amplitude * np.sin(np.pi * x / params.length)
    initial[0] = initial[-1] = 0.0
    kernel: _Kernel
    if kernel_name == "blocked":
        kernel = _BlockedKernel(initial, params.r)
    else:
        kernel = _StencilKernel(initial, params.r)

    steps = snapshot_steps(params.time_steps, params.snapshots)
    field = np.empty((steps.shape[0], n))
    series = np.empty((steps.shape[0], len(SERIES_HEADER)))
    snapshot_at = {int(step): row for row, step in enumerate(steps)}
    reports: set[int] = set()
    if progress is not None:
        granularity = BLOCK_WIDTH if kernel_name == "blocked" else 1
        reports = set(_progress_steps(params.time_steps, granularity))
    stops = sorted(set(snapshot_at) | reports | {params.time_steps})

    def keep(row: int, step: int) -> None:
        values = field[row]
        np.add(kernel.deviation(), params.boundary_temp, out=values)
        series[row] = (
            step * params.dt,
            _center_value(values),
            float(values.mean()),
            float(values.max()),
        )

    keep(0, 0)
    done = 0
    for stop in stops:
        if stop <= done:
            continue
        kernel.advance(stop - done)
        done = stop
        row = snapshot_at.get(stop)
        if row is not None:
            keep(row, stop)
        if progress is not None and stop in reports:
            progress(stop / params.time_steps)
    if progress is not None:
        progress(1.0)
    times = steps.astype(np.float64) * params.dt
    times[-1] = params.end_time
    series[-1, 0] = params.end_time
    return Heat1DResult(
        parameters=params,
        x=x,
        times=times,
        field=field,
        final=field[-1].copy(),
        series=series,
        elapsed_seconds=time.perf_counter() - started,
        method=kernel_name,
    )


# --------------------------------------------------------------------------- outputs


def _import_matplotlib() -> tuple[Any, Any] | None:
    """matplotlib's Figure and Agg canvas classes, or None when matplotlib is unavailable."""
    try:
        figure: ModuleType = importlib.import_module("matplotlib.figure")
        agg: ModuleType = importlib.import_module("matplotlib.backends.backend_agg")
    except ImportError:
        return None
    return figure.Figure, agg.FigureCanvasAgg


def _load_png_module() -> ModuleType:
    """The sibling png module, whether this file is imported from a package or on its own."""
    if __package__:
        return importlib.import_module(f"{__package__}.png")
    return importlib.import_module("png")


def _plot_matplotlib(result: Heat1DResult, path: Path, classes: tuple[Any, Any]) -> None:
    """Two panels: profiles at several times, and the centre temperature over time."""
    figure_class, canvas_class = classes
    figure = figure_class(figsize=(11.0, 4.5), dpi=100)
    canvas_class(figure)
    profiles, centre = figure.subplots(1, 2)
    count = result.times.shape[0]
    for row in sorted({int(i) for i in np.linspace(0, count - 1, min(count, 6)).round()}):
        profiles.plot(result.x, result.field[row], label=f"t = {result.times[row]:.4g} s")
    profiles.set_xlabel("position x (m)")
    profiles.set_ylabel("temperature")
    profiles.set_title("Temperature profiles")
    profiles.legend(fontsize="small")
    profiles.grid(True, alpha=0.3)
    params = result.parameters
    fine_times = np.linspace(0.0, params.end_time, 200)
    amplitude = params.initial_temp - params.boundary_temp
    exact = params.boundary_temp + amplitude * np.exp(
        -params.diffusivity * np.pi**2 * fine_times / params.length**2
    )
    centre.plot(result.series[:, 0], result.series[:, 1], "o-", markersize=3, label="numerical")
    centre.plot(fine_times, exact, "--", label="analytic")
    centre.set_xlabel("time t (s)")
    centre.set_ylabel("centre temperature")
    centre.set_title("Centre temperature over time")
    centre.legend(fontsize="small")
    centre.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(str(path), format="png")


def _plot_fallback(result: Heat1DResult, path: Path) -> None:
    """A heat map of the kept snapshots (time downwards, position across)."""
    png = _load_png_module()
    png.write_heatmap(path, result.field)


def write_outputs(
    result: Heat1DResult, directory: str | Path, *, use_matplotlib: bool | None = None
) -> list[Path]:
    """Write result.csv, meta.json, simulation_results.png and temperature_field.npy.

    The directory is created if needed.  The plot uses matplotlib when it can be imported
    (``use_matplotlib=None``) or when asked to (``True``); otherwise, or with ``False``, it
    is a heat map of the field written without matplotlib.  Returns the four paths.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, meta_path, plot_path, field_path = (out / name for name in OUTPUT_NAMES)

    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SERIES_HEADER)
        writer.writerows(result.series_rows())

    np.save(field_path, result.field)

    classes = None
    if use_matplotlib is None or use_matplotlib:
        classes = _import_matplotlib()
        if classes is None and use_matplotlib:
            raise ImportError("matplotlib was requested for the plot but cannot be imported")
    if classes is not None:
        _plot_matplotlib(result, plot_path, classes)
        plot_kind = "matplotlib"
    else:
        _plot_fallback(result, plot_path)
        plot_kind = "heatmap"

    params = result.parameters
    meta = {
        "simulation": "heat1d",
        "parameters": params.to_dict(),
        "derived": {
            "dx": params.dx,
            "dt": params.dt,
            "r": params.r,
            "stability_limit": STABILITY_LIMIT,
            "snapshots_kept": int(result.times.shape[0]),
        },
        "summary": result.summary(),
        "series_columns": list(SERIES_HEADER),
        "field_shape": list(result.field.shape),
        "plot": plot_kind,
        "files": list(OUTPUT_NAMES),
        "numpy_version": np.__version__,
        "created_at": datetime.now(UTC).isoformat(),
    }
    meta_path.write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return [csv_path, meta_path, plot_path, field_path]


# --------------------------------------------------------------------------- command pieces


def format_progress(fraction: float) -> str:
    """The progress line printed by the command, e.g. ``progress 0.50``."""
    return f"progress {fraction:.2f}"


def run(
    params: Heat1DParameters,
    output_dir: str | Path,
    progress: ProgressCallback | None = None,
    *,
    method: Method = "auto",
) -> tuple[Heat1DResult, list[Path]]:
    """Solve and write the outputs; the building block of the standalone command."""
    result = solve(params, progress, method=method)
    return result, write_outputs(result, output_dir)
