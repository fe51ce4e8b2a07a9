"""The FRED stand-in's outputs of a program's variables, printed files and networks, in
FRED 11's layout as the epx client reads it:

- ``VARIABLES/numeric.<name>.csv``: ``<sim day> <value>`` lines;
- ``VARIABLES/list.<name>.csv``: a ``Day,<name>`` header, then ``<sim day>,"[v,v,...]"``;
- ``VARIABLES/table.<name>-<sim day>.csv``: a ``Key,<name>`` header, then ``<key>,<value>``;
- ``VARIABLES/list_table.<name>-<sim day>.csv``: ``Key,<name>``, then ``<key>,"[v,...]"``;
- ``USER_OUTPUT/<file>``: a CSV file's header and rows, or a text file's lines;
- ``NETWORKS/<name>-<sim day>.gv``: the network in Graphviz's DOT language (who exposed
  whom by age group: a few nodes and edges, which the client's DOT reader parses fast).

Numbers in variables are written as FRED does (``12.000000``); tables are keyed by the
first age of each age group (:data:`simdock_sim.fred_people.AGE_GROUPS`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from .fred_people import People
from .fred_program import (
    Call,
    Expression,
    ListOf,
    Measure,
    Network,
    Number,
    Program,
    Variable,
    VariableRef,
)

__all__ = ["Series", "output_days", "write_program_outputs"]

Value = float | str
RESERVED = frozenset({"print_output.txt"})


@dataclass(frozen=True)
class Series:
    """What a value can be computed from: the run's days and the model's daily counts."""

    dates: Sequence[date]
    population: int
    count: Mapping[str, Sequence[int]]
    new: Mapping[str, Sequence[int]]
    total: Mapping[str, Sequence[int]]
    epi_week: Callable[[date], str]


def output_days(days: int, interval: int, last: bool = False) -> list[int]:
    """The sim days written every ``interval`` days from day 0 (none when 0), with the
    last day too when ``last``."""
    chosen = set(range(0, days, interval)) if interval > 0 else set()
    if last and days:
        chosen.add(days - 1)
    return sorted(chosen)


def write_program_outputs(out: Path, program: Program, series: Series,
                          people: Callable[[], People]) -> list[str]:
    """Write every output of ``program`` under ``out``; ``people`` is called only when a
    table or a network needs the agents. Returns the warnings of what was left out."""
    warnings: list[str] = []
    evaluate = _Evaluator(program, series)
    for variable in program.variables.values():
        if not variable.written or variable.value is None:
            continue
        try:
            lines = _variable_files(variable, evaluate, series, people)
        except ValueError as exc:
            warnings.append(f"variable {variable.name}: {exc}; left out")
            continue
        for name, text in lines.items():
            _write(out / "VARIABLES" / name, text)
    for file, text in _printed_files(program, evaluate, len(series.dates), warnings).items():
        _write(out / "USER_OUTPUT" / file, text)
    for network in program.networks.values():
        if network.written:
            for day in output_days(len(series.dates), network.interval, last=True):
                _write(out / "NETWORKS" / f"{network.name}-{day}.gv",
                       _dot(network, people(), day))
    return warnings


class _Evaluator:
    """Values of expressions on a sim day."""

    def __init__(self, program: Program, series: Series) -> None:
        self.program = program
        self.series = series

    def __call__(self, expression: Expression, day: int, seen: frozenset[str] = frozenset()
                 ) -> Value | list[Value]:
        series = self.series
        if isinstance(expression, Number):
            return expression.value
        if isinstance(expression, Measure):
            return float(getattr(series, expression.kind)[expression.state][day])
        if isinstance(expression, Call):
            moment = series.dates[day]
            called: dict[str, Value] = {"sim_day": float(day), "date": moment.isoformat(),
                                        "epi_week": series.epi_week(moment),
                                        "pop_size": float(series.population)}
            return called[expression.function]
        if isinstance(expression, VariableRef):
            value = self.program.variables[expression.name].value
            if expression.name in seen or value is None:
                raise ValueError(f"{expression.name} has no value the stand-in computes")
            return self(value, day, seen | {expression.name})
        return [self.number(item, day, seen) for item in expression.items]

    def number(self, expression: Expression, day: int, seen: frozenset[str] = frozenset()
               ) -> float:
        value = self(expression, day, seen)
        if not isinstance(value, float):
            raise ValueError(f"{_shown(expression)} is not a number")
        return value


def _variable_files(variable: Variable, evaluate: _Evaluator, series: Series,
                    people: Callable[[], People]) -> dict[str, str]:
    """File name -> text of one variable's outputs."""
    value = variable.value
    assert value is not None
    days = output_days(len(series.dates), variable.interval)
    name = variable.name
    if variable.kind == "numeric":
        if isinstance(value, ListOf):
            raise ValueError("a numeric variable cannot hold a list")
        return {f"numeric.{name}.csv": "".join(
            f"{day} {evaluate.number(value, day):f}\n" for day in days)}
    if variable.kind == "list":
        items = value if isinstance(value, ListOf) else ListOf((value,))
        return {f"list.{name}.csv": f"Day,{name}\n" + "".join(
            f'{day},"[{_listed(evaluate.number(i, day) for i in items.items)}]"\n'
            for day in days)}
    measures = value.items if isinstance(value, ListOf) else (value,)
    if not all(isinstance(m, Measure) for m in measures) or (
            variable.kind == "table" and isinstance(value, ListOf)):
        wanted = ("a count (INF.<state>, INF.new<state> or INF.tot<state>)"
                  if variable.kind == "table" else "list(<count>, ...)")
        raise ValueError(f"a {variable.kind} holds {wanted} by age group")
    agents = people()
    files = {}
    for day in days:
        by_age = [getattr(agents, m.kind)[m.state][day] for m in measures
                  if isinstance(m, Measure)]
        rows = "".join(
            f"{first},{float(by_age[0][g]):f}\n" if variable.kind == "table"
            else f'{first},"[{_listed(float(counts[g]) for counts in by_age)}]"\n'
            for g, first in enumerate(agents.first_ages))
        files[f"{variable.kind}.{name}-{day}.csv"] = f"Key,{name}\n{rows}"
    return files


def _printed_files(program: Program, evaluate: _Evaluator, days: int, warnings: list[str]
                   ) -> dict[str, str]:
    """File name -> text of every CSV and text file the program prints to: a CSV file's
    header, then each sim day's rows (or lines) in the order of the program's prints."""
    printed_lines: dict[str, list[list[str]]] = {}
    for printed, csv in [*((p, True) for p in program.csv_rows),
                         *((p, False) for p in program.text_lines)]:
        call = f"print_{'csv' if csv else 'file'}({printed.file}, ...)"
        columns = program.csv_columns.get(printed.file)
        if printed.file in RESERVED:
            warnings.append(f"{call}: {printed.file} is FRED's own; ignored")
            continue
        if csv and columns is None:
            warnings.append(f"{call}: no open_csv({printed.file}, ...) names its columns; "
                            "ignored")
            continue
        if csv and columns is not None and len(columns) != len(printed.values):
            warnings.append(f"{call}: {len(printed.values)} values for {len(columns)} "
                            "columns; ignored")
            continue
        separator = "," if csv else " "
        try:
            lines = [separator.join(_shown_value(evaluate(v, day)) for v in printed.values)
                     for day in range(days)]
        except ValueError as exc:
            warnings.append(f"{call}: {exc}; ignored")
            continue
        printed_lines.setdefault(printed.file, []).append(lines)
    texts = {file: ",".join(columns) + "\n" for file, columns in program.csv_columns.items()
             if file not in RESERVED}
    for file, prints in printed_lines.items():
        texts[file] = texts.get(file, "") + "".join(
            f"{line}\n" for day in range(days) for lines in prints for line in [lines[day]])
    return texts


def _dot(network: Network, people: People, day: int) -> str:
    """Who exposed whom up to ``day``, by age group, as a DOT graph: a node per age group
    (its first age, with its number of ``agents``), an edge from the infectors' group to
    the exposed agents' with the number of ``exposures`` (both ways added up when the
    network is undirected)."""
    kind, arrow = ("digraph", "->") if network.directed else ("graph", "--")
    ages = people.first_ages
    sizes = np.bincount(people.age_group, minlength=len(ages))
    pairs: Counter[tuple[int, int]] = Counter()
    for exposure in people.exposures:
        if exposure.day <= day and exposure.infector is not None:
            pair = (int(people.age_group[exposure.infector]),
                    int(people.age_group[exposure.agent]))
            pairs[pair if network.directed else (min(pair), max(pair))] += 1
    lines = [f'{kind} "{network.name}" {{']
    lines += [f'  "{first}" [agents={int(sizes[g])}];' for g, first in enumerate(ages)]
    lines += [f'  "{ages[a]}" {arrow} "{ages[b]}" [exposures={n}];'
              for (a, b), n in sorted(pairs.items())]
    return "\n".join([*lines, "}"]) + "\n"


def _listed(values: Iterable[float]) -> str:
    return ",".join(f"{value:f}" for value in values)


def _shown_value(value: Value | list[Value]) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)


def _shown(expression: Expression) -> str:
    if isinstance(expression, Call):
        return f"{expression.function}()"
    if isinstance(expression, Measure):
        prefix = {"count": "", "new": "new", "total": "tot"}[expression.kind]
        return f"INF.{prefix}{expression.state}"
    if isinstance(expression, VariableRef):
        return expression.name
    return repr(expression)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
