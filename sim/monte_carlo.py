"""Monte Carlo estimate of pi, the seed example of a simulation with a convergence metric.

Points are drawn uniformly in the unit square in batches from ``numpy.random.default_rng``;
the fraction inside the quarter circle estimates pi/4.  Parameters look like
``{"iterations": 10000, "seed": 42, "config": {"option1": "value1"}}``.  The module depends
only on the standard library and numpy.
"""

from __future__ import annotations

import argparse
import json
import math
import numbers
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

import numpy as np

__all__ = [
    "DEFAULT_BATCH_CAP",
    "MAX_BATCH_SIZE",
    "MAX_ITERATIONS",
    "InvalidParameter",
    "MonteCarloError",
    "MonteCarloParameters",
    "main",
    "run",
]

MAX_ITERATIONS: Final = 10**10
MAX_BATCH_SIZE: Final = 10**7
DEFAULT_BATCH_MIN: Final = 1000
DEFAULT_BATCH_CAP: Final = 10**6
"""The default batch size, max(1000, iterations // 100), is capped here to bound memory."""

BatchCallback = Callable[[int, float, float], None]


class MonteCarloError(ValueError):
    """Base class of the errors reported for unusable Monte Carlo parameters."""


class InvalidParameter(MonteCarloError):
    """A parameter is unknown, has the wrong type, or is out of range."""


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


def _coerce_int(name: str, value: object) -> int:
    """The value as an int; integral floats such as 1000.0 are accepted, bools are not."""
    if not isinstance(value, bool):
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            number = float(value)
            if math.isfinite(number) and number.is_integer():
                return int(number)
    raise InvalidParameter(
        f"invalid parameter {name!r}: expected an integer, got {_describe(value)}"
    )


@dataclass(frozen=True)
class MonteCarloParameters:
    """Validated inputs of one pi estimate.

    ``config`` is echoed in the result; the only key used is ``batch_size`` (int >= 1,
    default max(1000, iterations // 100) capped at DEFAULT_BATCH_CAP).  Other keys are
    kept but ignored.
    """

    iterations: int = 10000
    seed: int | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        iterations = _coerce_int("iterations", self.iterations)
        if not 1 <= iterations <= MAX_ITERATIONS:
            raise InvalidParameter(
                f"invalid parameter 'iterations': must be between 1 and {MAX_ITERATIONS}, "
                f"got {iterations}"
            )
        object.__setattr__(self, "iterations", iterations)
        if self.seed is not None:
            seed = _coerce_int("seed", self.seed)
            if seed < 0:
                raise InvalidParameter(f"invalid parameter 'seed': must be >= 0, got {seed}")
            object.__setattr__(self, "seed", seed)
        if not isinstance(self.config, Mapping):
            raise InvalidParameter(
                f"invalid parameter 'config': expected an object, got {_describe(self.config)}"
            )
        bad_keys = [key for key in self.config if not isinstance(key, str)]
        if bad_keys:
            raise InvalidParameter(
                f"invalid parameter 'config': keys must be strings, got {bad_keys[0]!r}"
            )
        config = dict(self.config)
        if "batch_size" in config:
            batch = _coerce_int("config.batch_size", config["batch_size"])
            if not 1 <= batch <= MAX_BATCH_SIZE:
                raise InvalidParameter(
                    f"invalid parameter 'config.batch_size': must be between 1 and "
                    f"{MAX_BATCH_SIZE}, got {batch}"
                )
            config["batch_size"] = batch
        object.__setattr__(self, "config", config)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of the accepted top-level parameters."""
        return ("iterations", "seed", "config")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> MonteCarloParameters:
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
                f"unknown parameter(s) {names}; accepted parameters: {', '.join(accepted)}"
            )
        config = values.get("config", {})
        if config is None:
            config = {}
        return cls(
            iterations=values.get("iterations", 10000),  # type: ignore[arg-type]
            seed=values.get("seed"),  # type: ignore[arg-type]
            config=config,  # type: ignore[arg-type]
        )

    @property
    def batch_size(self) -> int:
        """Samples drawn per batch; bounds the memory used."""
        configured = self.config.get("batch_size")
        if isinstance(configured, int):
            return min(configured, self.iterations)
        default = max(DEFAULT_BATCH_MIN, self.iterations // 100)
        return min(default, DEFAULT_BATCH_CAP, self.iterations)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-able dict (when config itself is JSON-able)."""
        return {"iterations": self.iterations, "seed": self.seed, "config": dict(self.config)}


def _estimate(hits: int, samples: int) -> tuple[float, float]:
    """The pi estimate and its standard error from hits inside the quarter circle."""
    p = hits / samples
    return 4.0 * p, 4.0 * math.sqrt(p * (1.0 - p) / samples)


def run(params: MonteCarloParameters, on_batch: BatchCallback | None = None) -> dict[str, Any]:
    """Estimate pi; ``on_batch(samples_done, estimate, std_error)`` follows every batch.

    The same seed gives the same estimate regardless of the batch size, because the random
    stream is consumed in (x, y) pairs.  An exception raised by ``on_batch`` stops the run
    and propagates.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(params.seed)
    size = params.batch_size
    points = np.empty((size, 2))
    radius2 = np.empty(size)
    inside = np.empty(size, dtype=bool)
    hits = 0
    done = 0
    batches = 0
    estimate, std_error = 0.0, 0.0
    while done < params.iterations:
        n = min(size, params.iterations - done)
        batch = points[:n]
        rng.random(out=batch)
        np.square(batch, out=batch)
        np.add(batch[:, 0], batch[:, 1], out=radius2[:n])
        np.less_equal(radius2[:n], 1.0, out=inside[:n])
        hits += int(np.count_nonzero(inside[:n]))
        done += n
        batches += 1
        estimate, std_error = _estimate(hits, done)
        if on_batch is not None:
            on_batch(done, estimate, std_error)
    return {
        "estimate": estimate,
        "std_error": std_error,
        "abs_error": abs(estimate - math.pi),
        "iterations": params.iterations,
        "seed": params.seed,
        "batches": batches,
        "batch_size": size,
        "config": dict(params.config),
        "elapsed_seconds": time.perf_counter() - started,
    }


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the result of one estimate as JSON; returns the exit status."""
    parser = _Parser(prog="monte_carlo", description="Estimate pi by Monte Carlo sampling.")
    parser.add_argument("--iterations", type=int, default=10000, help="number of samples")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=None)
    try:
        args = parser.parse_args(argv)
        config: dict[str, object] = {}
        if args.batch_size is not None:
            config["batch_size"] = args.batch_size
        params = MonteCarloParameters.from_mapping(
            {"iterations": args.iterations, "seed": args.seed, "config": config}
        )
    except (_UsageError, MonteCarloError) as exc:
        print(f"monte_carlo: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(run(params), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
