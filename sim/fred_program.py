"""What the FRED stand-in reads of a FRED program besides its parameters: the shared
variables it declares and what each holds, the CSV and text files it prints to, and its
networks. The stand-in is not FRED: it understands these FRED 11 forms and no rules.

- ``shared numeric|list|table|list_table NAME`` (or FRED 10's ``global``, ``global_list``,
  ``global_table``, ``global_list_table``) declares a variable; ``NAME = <value>`` says
  what it holds, ``NAME.output_interval = N`` writes it every N days (1 by default) and
  ``NAME.output = 0`` not at all. A value is a number, a count of the condition
  ``INF``'s states (``INF.I`` agents in I at the end of the day, ``INF.newE`` entries
  into E that day, ``INF.totR`` entries into R so far), ``sim_day()``, ``date()``,
  ``epi_week()``, ``pop_size()``, or another numeric variable. A ``list`` holds
  ``list(<value>, ...)``; a ``table`` holds one count by age group (its keys are the
  groups' first ages), a ``list_table`` ``list(<count>, ...)`` by age group.
- ``open_csv(FILE, "column", ...)`` names a CSV file's columns, and every
  ``print_csv(FILE, <value>, ...)`` adds a row to it each sim day; every
  ``print_file(FILE, <value>, ...)`` adds a line (the values separated by spaces).
- ``network NAME { is_directed = 0|1  output_interval = N }``: the stand-in fills every
  network with who exposed whom by age group (a node per group, an edge per pair of
  groups with its number of exposures), written on the last day and, with
  ``output_interval``, every N days.

What the stand-in cannot compute is left out with a warning in the run's log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["CONDITION", "FUNCTIONS", "KINDS", "STATES", "Call", "Expression", "ListOf",
           "Measure", "Network", "Number", "Printed", "Program", "Variable", "VariableRef",
           "parse_program"]

CONDITION = "INF"
STATES = ("S", "E", "I", "R")
KINDS = ("numeric", "list", "table", "list_table")
#: The functions a value may call, none with arguments.
FUNCTIONS = ("sim_day", "date", "epi_week", "pop_size")
_FRED10_KINDS = {"global": "numeric", "global_list": "list", "global_table": "table",
                 "global_list_table": "list_table"}
_NAME = r"[A-Za-z_]\w*"
_DECLARATION = re.compile(
    rf"^\s*(?:shared\s+(numeric|list_table|list|table)|(global_list_table|global_list"
    rf"|global_table|global))\s+({_NAME}(?:\s*,?\s*{_NAME})*)\s*$")
_PROPERTY = re.compile(rf"^\s*({_NAME})\.(output_interval|output)\s*=\s*(\S+)\s*$")
_BINDING = re.compile(rf"^\s*({_NAME})\s*=\s*(.+?)\s*$")
_CALL = re.compile(r"\b(open_csv|print_csv|print_file)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_NETWORK = re.compile(rf"\bnetwork\s+({_NAME})\s*\{{([^{{}}]*)\}}")
_MEASURE = re.compile(rf"^{CONDITION}\.(new|tot)?([SEIR])$")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_FILE = re.compile(r"^[\w][\w.-]{0,127}$")


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Measure:
    """A count of a state of ``INF``: ``count`` (at the end of the day), ``new`` (entries
    that day) or ``total`` (entries so far)."""

    kind: str
    state: str


@dataclass(frozen=True)
class Call:
    function: str


@dataclass(frozen=True)
class VariableRef:
    name: str


@dataclass(frozen=True)
class ListOf:
    items: tuple[Expression, ...]


Expression = Number | Measure | Call | VariableRef | ListOf


@dataclass
class Variable:
    name: str
    kind: str
    value: Expression | None = None
    interval: int = 1
    written: bool = True


@dataclass(frozen=True)
class Printed:
    """One ``print_csv`` or ``print_file``: the file and the values of a row or line."""

    file: str
    values: tuple[Expression, ...]


@dataclass
class Network:
    name: str
    directed: bool = True
    interval: int = 0
    written: bool = True


@dataclass
class Program:
    variables: dict[str, Variable] = field(default_factory=dict)
    csv_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    csv_rows: list[Printed] = field(default_factory=list)
    text_lines: list[Printed] = field(default_factory=list)
    networks: dict[str, Network] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def parse_program(text: str) -> Program:
    """The variables, printed files and networks of a program's text (see the module)."""
    program = Program()
    lines = list(_logical_lines(text))
    for line in lines:
        declared = _DECLARATION.match(line)
        if declared:
            kind = declared.group(1) or _FRED10_KINDS[declared.group(2)]
            for name in re.findall(_NAME, declared.group(3)):
                program.variables.setdefault(name, Variable(name, kind))
    joined = "\n".join(lines)
    for name, body in _NETWORK.findall(joined):
        program.networks[name] = _network(name, body, program.warnings)
    for line in lines:
        _read_line(line, program)
    for call, arguments in _CALL.findall(joined):
        _read_call(call, _split(arguments), program)
    for variable in program.variables.values():
        warned = any(w.startswith(f"{variable.name} = ") for w in program.warnings)
        if variable.written and variable.value is None and not warned:
            program.warnings.append(f"{variable.name} is given no value the stand-in "
                                    "computes; it leaves it out")
    return program


def _logical_lines(text: str) -> Iterator[str]:
    """Lines without comments, a trailing backslash joining a line to the next."""
    pending = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    if pending:
        yield pending


def _read_line(line: str, program: Program) -> None:
    prop = _PROPERTY.match(line)
    if prop and prop.group(1) in program.variables:
        variable = program.variables[prop.group(1)]
        number = _count(prop.group(3))
        if number is None:
            program.warnings.append(f"{variable.name}.{prop.group(2)} = {prop.group(3)!r} "
                                    "is not a whole number >= 0; ignored")
        elif prop.group(2) == "output":
            variable.written = number != 0
        elif number == 0:
            variable.written = False
        else:
            variable.interval = number
        return
    bound = _BINDING.match(line)
    if bound and bound.group(1) in program.variables:
        variable = program.variables[bound.group(1)]
        try:
            variable.value = expression(bound.group(2), program)
        except ValueError as exc:
            variable.value = None
            program.warnings.append(f"{variable.name} = {bound.group(2)}: {exc}; the stand-in "
                                    "leaves it out")


def _read_call(call: str, arguments: list[str], program: Program) -> None:
    if not arguments or not _FILE.match(arguments[0]):
        program.warnings.append(f"{call}: the first argument must be a file name, got "
                                f"{arguments[0] if arguments else 'nothing'!r}; ignored")
        return
    file, rest = arguments[0], arguments[1:]
    if call == "open_csv":
        columns = tuple(a.strip('"') for a in rest)
        if not columns or not all(a.startswith('"') and a.endswith('"') for a in rest):
            program.warnings.append(f"open_csv({file}): the columns must be quoted names; "
                                    "ignored")
            return
        program.csv_columns[file] = columns
        return
    try:
        values = tuple(expression(a, program) for a in rest)
    except ValueError as exc:
        program.warnings.append(f"{call}({file}, ...): {exc}; ignored")
        return
    if any(isinstance(v, ListOf) for v in values):
        program.warnings.append(f"{call}({file}, ...): a list cannot be printed; ignored")
        return
    (program.csv_rows if call == "print_csv" else program.text_lines).append(
        Printed(file, values))


def expression(text: str, program: Program) -> Expression:
    """The value ``text`` stands for, or ValueError saying why the stand-in cannot tell."""
    text = text.strip()
    if _NUMBER.match(text):
        return Number(float(text))
    measure = _MEASURE.match(text)
    if measure:
        return Measure({"new": "new", "tot": "total"}.get(measure.group(1) or "", "count"),
                       measure.group(2))
    call = re.fullmatch(rf"({_NAME})\s*\(\s*(.*)\)", text, re.DOTALL)
    if call and call.group(1) == "list":
        return ListOf(tuple(expression(item, program) for item in _split(call.group(2))))
    if call and call.group(1) in FUNCTIONS and not call.group(2).strip():
        return Call(call.group(1))
    variable = program.variables.get(text)
    if variable is not None and variable.kind == "numeric":
        return VariableRef(text)
    raise ValueError(f"{text!r} is not a value the stand-in computes (a number, "
                     f"{CONDITION}.<state>, {CONDITION}.new<state>, {CONDITION}.tot<state>, "
                     f"{'(), '.join(FUNCTIONS)}(), a numeric variable, or list(...))")


def _split(arguments: str) -> list[str]:
    """Comma-separated arguments, commas inside parentheses or quotes kept."""
    parts, depth, quoted, current = [], 0, False, ""
    for char in arguments:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        elif char == "," and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _network(name: str, body: str, warnings: list[str]) -> Network:
    network = Network(name)
    for line in body.splitlines():
        setting = re.match(r"^\s*(is_directed|output_interval|output)\s*=\s*(\S+)\s*$", line)
        if not setting:
            continue
        number = _count(setting.group(2))
        if number is None:
            warnings.append(f"network {name}: {setting.group(1)} = {setting.group(2)!r} is "
                            "not a whole number >= 0; ignored")
        elif setting.group(1) == "is_directed":
            network.directed = number != 0
        elif setting.group(1) == "output":
            network.written = number != 0
        else:
            network.interval = number
    return network


def _count(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None
