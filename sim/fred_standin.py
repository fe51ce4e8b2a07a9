"""A stand-in for the FRED epidemic simulator (FRED 11 by Epistemix): NOT FRED itself.

Used where no real FRED binary is installed, so that demos and tests can still run "FRED"
jobs.  It accepts FRED 11's command line (``-p main.fred -o k=v -s SEED -l LOCATION -d OUT
--start-date/--end-date``, and FRED 10's ``-r N`` as the seed) and writes FRED 11's output
layout as the epx client reads it: ``conditions.json``, ``DAILY/*.txt``, ``logs.txt`` (line
by line, so a run stopped midway keeps its logs so far), ``return_code.txt``,
``USER_OUTPUT/print_output.txt``, and what the program declares (:mod:`.fred_program`):
its shared variables under ``VARIABLES/``, the CSV and text files it prints to under
``USER_OUTPUT/`` and its networks under ``NETWORKS/`` (:mod:`.fred_outputs`); nothing
outside the output directory.

The model: a chain-binomial SEIR model of one condition ``INF`` (states S E I R), the same
for the same seed (``numpy.random.default_rng(seed)``).  Sim day 0 is the start date; the
end date is included.  On day 0 everyone enters S and ``initial_infections`` move on to I;
each later day, from the start-of-day counts, Binomial(S, 1 - exp(-transmissibility*I/N))
move S->E, Binomial(E, 1 - exp(-1/latent_period)) E->I, Binomial(I, 1 - exp(-1/
infectious_period)) I->R.  Each distinct ``-l`` location has 50 + (first 8 bytes of the
SHA-256 of its UTF-8 name, big-endian) % 4951 people (50..5000, stable everywhere); N is
their sum, or 1000 without ``-l``.  Parameters: defaults, then ``name = value`` lines of
the program file (``#`` comments and other lines ignored), then ``-o name=value``.  While
the environment variable SIMDOCK_ATTEMPT (attempt number from 1) is <= ``fail_attempts``
the run fails on purpose (after writing logs.txt), to show a retry recovering from a
transient failure; with SIMDOCK_ATTEMPT unset it only logs a WARNING.  Exit status: 0 ok,
1 run error (logs.txt and return_code.txt still written), 2 usage error (nothing written).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import IO

import numpy as np

if __name__ == "__main__" and not __package__:
    # Run by its file (how simdock runs it, in handler containers too, where simdock is
    # not installed): its sibling modules are imported as the package they belong to.
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "simdock_sim", Path(__file__).with_name("__init__.py"),
        submodule_search_locations=[str(Path(__file__).parent)])
    assert _spec is not None and _spec.loader is not None
    sys.modules["simdock_sim"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["simdock_sim"])
    __package__ = "simdock_sim"  # PEP 366: the imports below resolve in that package

from .fred_outputs import Series, write_program_outputs
from .fred_people import People, follow
from .fred_program import Program, parse_program

__all__ = ["DailySeries", "Parameters", "RunArgs", "StandinError", "epi_week",
           "load_parameters", "location_population", "main", "parse_args", "simulate"]

CONDITION = "INF"
STATES = ("S", "E", "I", "R")
DEFAULT_POPULATION = 1000
DEFAULT_START = date(2020, 1, 1)
DEFAULT_DAYS = 30
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(\S+)\s*$")


class StandinError(Exception):
    """A run cannot go ahead (bad parameter, missing program file, deliberate failure)."""


@dataclass(frozen=True)
class Parameters:
    transmissibility: float = 0.3
    latent_period: float = 2.0
    infectious_period: float = 4.0
    initial_infections: int = 5
    fail_attempts: int = 0
    #: Wall-clock seconds each simulated day takes (at most 10): for demos that watch,
    #: or stop, a run while it runs. 0 runs at full speed.
    seconds_per_day: float = 0.0


_INTEGERS = ("initial_infections", "fail_attempts")


@dataclass(frozen=True)
class RunArgs:
    program: Path
    output_dir: Path = Path("OUT")
    seed: int = 1
    start: date = DEFAULT_START
    end: date = DEFAULT_START + timedelta(days=DEFAULT_DAYS)
    locations: tuple[str, ...] = ()
    overrides: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DailySeries:
    """Per sim day: dates, and per state its count, new entries and cumulative entries."""

    dates: list[date]
    population: int
    count: dict[str, list[int]]
    new: dict[str, list[int]]
    total: dict[str, list[int]]


def location_population(name: str) -> int:
    """The stand-in's synthetic population size of a location: 50..5000, from a SHA-256."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return 50 + int.from_bytes(digest[:8], "big") % 4951


def population(locations: Sequence[str]) -> int:
    if not locations:
        return DEFAULT_POPULATION
    return sum(location_population(name) for name in dict.fromkeys(locations))


def epi_week(day: date) -> str:
    """The CDC (MMWR) epi week as ``YYYY.WW``: Sunday-based weeks, week 1 holds Jan 4."""
    def week1_start(year: int) -> date:
        jan4 = date(year, 1, 4)
        return jan4 - timedelta(days=(jan4.weekday() + 1) % 7)

    year = day.year
    if day < week1_start(year):
        year -= 1
    elif day >= week1_start(year + 1):
        year += 1
    return f"{year}.{(day - week1_start(year)).days // 7 + 1:02d}"


def _date_arg(text: str) -> date:
    return datetime.strptime(text, "%Y-%m-%d").date()


def _override_arg(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(text)
    return key.strip(), value.strip()


def _count_arg(text: str) -> int:
    number = int(text)
    if number < 0:
        raise ValueError(text)
    return number


_date_arg.__name__ = "YYYY-MM-DD date"
_override_arg.__name__ = "key=value"
_count_arg.__name__ = "non-negative integer"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fred_standin", allow_abbrev=False,
        description="Stand-in for FRED 11 (not FRED): a small SEIR model in FRED's layout.")
    parser.add_argument("-p", dest="program", type=Path, required=True, help="program file")
    parser.add_argument("-o", dest="overrides", action="append", default=[],
                        type=_override_arg, help="parameter override key=value")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("-s", dest="seed", type=_count_arg, help="seed (FRED 11)")
    seeds.add_argument("-r", dest="run", type=_count_arg, help="run number (FRED 10)")
    parser.add_argument("--start-date", type=_date_arg, default=DEFAULT_START)
    parser.add_argument("--end-date", type=_date_arg, default=None)
    parser.add_argument("-l", dest="locations", action="append", default=[], help="location")
    parser.add_argument("-d", dest="output_dir", type=Path, default=Path("OUT"))
    return parser


def parse_args(argv: Sequence[str]) -> RunArgs:
    """Parse FRED-style arguments; usage errors raise SystemExit(2) after printing."""
    ns = _parser().parse_args(list(argv))
    seed = ns.seed if ns.seed is not None else ns.run if ns.run is not None else 1
    end = ns.end_date if ns.end_date else ns.start_date + timedelta(days=DEFAULT_DAYS)
    return RunArgs(program=ns.program, output_dir=ns.output_dir, seed=seed,
                   start=ns.start_date, end=end, locations=tuple(ns.locations),
                   overrides=tuple(ns.overrides))


def _coerce(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise StandinError(f"parameter {name}: {text!r} is not a number") from None
    integer = name in _INTEGERS
    if not math.isfinite(value) or value < 0 or (integer and not value.is_integer()):
        wanted = "a non-negative integer" if integer else "a finite number >= 0"
        raise StandinError(f"parameter {name}: {text!r} is not {wanted}")
    if name.endswith("_period") and value <= 0:
        raise StandinError(f"parameter {name}: {text!r} must be > 0")
    return value


def load_parameters(args: RunArgs) -> tuple[Parameters, list[str]]:
    """Parameters from defaults, the program file and ``-o``; also the warnings to log."""
    try:
        text = args.program.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise StandinError(f"cannot read program file {str(args.program)!r}: "
                           f"{exc.strerror or exc}") from None
    values: dict[str, float] = asdict(Parameters())
    warnings = []
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line.split("#", 1)[0])
        if match and match.group(1) in values:
            values[match.group(1)] = _coerce(match.group(1), match.group(2))
    for name, value in args.overrides:
        if name in values:
            values[name] = _coerce(name, value)
        else:
            warnings.append(f"unknown parameter {name!r} overridden with {value!r}; ignored")
    params = Parameters(
        transmissibility=values["transmissibility"], latent_period=values["latent_period"],
        infectious_period=values["infectious_period"],
        initial_infections=int(values["initial_infections"]),
        fail_attempts=int(values["fail_attempts"]),
        seconds_per_day=values["seconds_per_day"])
    if not 0 <= params.seconds_per_day <= 10:
        raise StandinError(f"seconds_per_day must be from 0 to 10, got {params.seconds_per_day}")
    return params, warnings


def _step(rng: np.random.Generator, state: dict[str, int], params: Parameters
          ) -> dict[str, int]:
    """One day's entries into each state, drawn from the counts at the start of the day."""
    size = sum(state.values())
    force = params.transmissibility * state["I"] / size
    return {"S": 0,
            "E": int(rng.binomial(state["S"], 1 - math.exp(-force))),
            "I": int(rng.binomial(state["E"], 1 - math.exp(-1 / params.latent_period))),
            "R": int(rng.binomial(state["I"], 1 - math.exp(-1 / params.infectious_period)))}


def simulate(args: RunArgs, params: Parameters) -> DailySeries:
    """The daily S/E/I/R counts, entries and cumulative entries; pure and deterministic."""
    if args.end < args.start:
        raise StandinError(f"end date {args.end} is before start date {args.start}")
    days = (args.end - args.start).days + 1
    size = population(args.locations)
    rng = np.random.default_rng(args.seed)
    seeded = min(params.initial_infections, size)
    state = {"S": size - seeded, "E": 0, "I": seeded, "R": 0}
    entered = {"S": size, "E": 0, "I": seeded, "R": 0}
    count: dict[str, list[int]] = {x: [] for x in STATES}
    new: dict[str, list[int]] = {x: [] for x in STATES}
    for day in range(days):
        if day > 0:
            entered = _step(rng, state, params)
            leaving = {"S": entered["E"], "E": entered["I"], "I": entered["R"], "R": 0}
            state = {x: state[x] + entered[x] - leaving[x] for x in STATES}
        for x in STATES:
            count[x].append(state[x])
            new[x].append(entered[x])
    return DailySeries([args.start + timedelta(days=d) for d in range(days)], size, count, new,
                       {x: list(accumulate(new[x])) for x in STATES})


class RunLog:
    """Writes ``logs.txt`` line by line, in the format the epx client parses, so that a run
    stopped midway keeps its logs so far; echoes all but ERROR lines to stdout (errors go
    to stderr once, from :func:`main`). A log that cannot be written is reported by
    :meth:`close`, after the run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[str] = []
        self._file: IO[str] | None = None
        self.error: OSError | None = None

    def __call__(self, level: str, message: str) -> None:
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        clean = message.replace("\r", "\\r").replace("\n", "\\n")
        clean = clean.encode("ascii", "backslashreplace").decode("ascii")
        self.lines.append(f"[{stamp}] {level}: {clean}\n")
        self._append(self.lines[-1])
        if level != "ERROR":
            print(f"{level}: {clean}", flush=True)

    def _append(self, line: str) -> None:
        if self.error is not None:
            return
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("w", encoding="utf-8")
            self._file.write(line)
            self._file.flush()
        except OSError as exc:
            self.error = exc

    def close(self) -> None:
        """Finish the file; raises the first error met writing it."""
        if self._file is None and self.error is None:
            self._append("")  # a run that logged nothing still has its (empty) logs
        if self._file is not None:
            self._file.close()
        if self.error is not None:
            raise self.error


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_outputs(out: Path, series: DailySeries, summary: str) -> None:
    """Write conditions.json, DAILY/*.txt and USER_OUTPUT/print_output.txt under ``out``."""
    conditions = {"conditions": [{"name": CONDITION, "states": list(STATES)}],
                  "generator": "simdock fred_standin (a stand-in, not FRED)"}
    _write(out / "conditions.json", json.dumps(conditions, indent=2) + "\n")

    def daily(name: str, values: Sequence[object]) -> None:
        _write(out / "DAILY" / name, "".join(f"{d} {v}\n" for d, v in enumerate(values)))

    daily("Popsize.txt", [series.population] * len(series.dates))
    daily("Date.txt", [d.isoformat() for d in series.dates])
    daily("EpiWeek.txt", [epi_week(d) for d in series.dates])
    for s in STATES:
        daily(f"{CONDITION}.{s}.txt", series.count[s])
        daily(f"{CONDITION}.new{s}.txt", series.new[s])
        daily(f"{CONDITION}.tot{s}.txt", series.total[s])
    _write(out / "USER_OUTPUT" / "print_output.txt",
           "FRED stand-in (simdock_sim.fred_standin), not FRED\n" + summary + "\n")


def _check_deliberate_failure(params: Parameters, log: RunLog) -> None:
    if params.fail_attempts <= 0:
        return
    raw = os.environ.get("SIMDOCK_ATTEMPT")
    if raw is None:
        log("WARNING", "fail_attempts is set but SIMDOCK_ATTEMPT is not; not failing")
        return
    try:
        attempt = int(raw)
    except ValueError:
        raise StandinError(f"SIMDOCK_ATTEMPT={raw!r} is not an integer") from None
    if attempt <= params.fail_attempts:
        raise StandinError(f"deliberate failure: attempt {attempt} <= fail_attempts "
                           f"{params.fail_attempts} (set by the run's parameters)")


def _run(args: RunArgs, argv: Sequence[str], log: RunLog) -> None:
    log("INFO", "FRED stand-in (simdock_sim.fred_standin), not FRED; arguments: "
        + shlex.join(argv))
    params, warnings = load_parameters(args)
    program = read_program(args)
    for warning in [*warnings, *program.warnings]:
        log("WARNING", warning)
    log("INFO", f"program {args.program}; parameters {params}; seed {args.seed}")
    log("INFO", f"locations {list(args.locations) or 'none (default population)'}; "
        f"population {population(args.locations)}")
    log("INFO", f"start date {args.start}, end date {args.end}")
    series = simulate(args, params)
    if params.seconds_per_day > 0:
        for day in range(len(series.dates)):
            time.sleep(params.seconds_per_day)
            log("INFO", f"day {day + 1} of {len(series.dates)}")
    _check_deliberate_failure(params, log)
    summary = (f"days {len(series.dates)}, population {series.population}, "
               f"infections {series.total['I'][-1]}, peak infectious {max(series.count['I'])}, "
               f"final S {series.count['S'][-1]} E {series.count['E'][-1]} "
               f"I {series.count['I'][-1]} R {series.count['R'][-1]}")
    write_outputs(args.output_dir, series, summary)
    for warning in write_model_outputs(args, program, series):
        log("WARNING", warning)
    log("INFO", f"summary: {summary}")


def read_program(args: RunArgs) -> Program:
    """What the program declares besides its parameters (see :mod:`simdock_sim.fred_program`)."""
    try:
        return parse_program(args.program.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise StandinError(f"cannot read program file {str(args.program)!r}: "
                           f"{exc.strerror or exc}") from None


def write_model_outputs(args: RunArgs, program: Program, series: DailySeries) -> list[str]:
    """Write the program's variables, printed files and networks; returns the warnings of
    what was left out."""
    agents: list[People] = []

    def people() -> People:  # followed only when a table or a network needs them
        if not agents:
            agents.append(follow(series.population, series.new, args.seed))
        return agents[0]

    values = Series(series.dates, series.population, series.count, series.new, series.total,
                    epi_week)
    return write_program_outputs(args.output_dir, program, values, people)


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0 ok, 1 run error, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    log, status = RunLog(args.output_dir / "logs.txt"), 0
    try:
        _run(args, argv, log)
    except (StandinError, OSError) as exc:
        log("ERROR", str(exc))
        print(f"fred_standin: error: {exc}", file=sys.stderr)
        status = 1
    try:
        log.close()
        _write(args.output_dir / "return_code.txt", f"{status}\n")
    except OSError as exc:
        print(f"fred_standin: error: cannot write to {args.output_dir}: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
