"""The FRED command line a run request may ask for, checked before it reaches FRED.

``fredArgs`` come from a client, and the FRED program reads what they name with
the server's rights. So each flag must be one FRED takes from a run request, and
each value must be what that flag expects:

- ``-p`` names the program file: a path relative to the job's inputs, without
  ``..``; at execution it must also resolve inside them (no link leading out) and
  be a file there. A path that is refused is refused with the same words whether or
  not something exists there, so requests learn nothing of the server's files.
- ``-o name=value`` sets a model parameter; a value that reads as a path follows the
  rule of ``-p`` (FRED's parameters may name files).
- ``-s``/``-r`` a seed (a non-negative integer), ``-l`` a location (a name, not a
  path), ``--start-date``/``--end-date`` dates (YYYY-MM-DD), within ``max_days``
  simulated days of each other (of today without a start date).
- ``-d`` (where outputs go) is simdock's to set.

No value may start with ``-``, which the program would read as an option.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from simdock.errors import InvalidParameters

#: Flags simdock sets itself: where outputs go is not the request's to choose.
RESERVED = frozenset({"-d", "--directory"})
#: What each flag of a run request takes.
FILE, OVERRIDE, COUNT, LOCATION, DATE = "file", "override", "count", "location", "date"
OPTIONS: dict[str, str] = {"-p": FILE, "-o": OVERRIDE, "-s": COUNT, "-r": COUNT,
                           "-l": LOCATION, "--start-date": DATE, "--end-date": DATE}
MAX_ARGS = 1_000
#: The flags a run's seed is given with (FRED 11's, and FRED 10's ``-r``).
SEED_FLAGS = frozenset({"-s", "-r"})
MAX_VALUE_LENGTH = 4_096
#: The default of FRED_MAX_DAYS: ten years.
MAX_DAYS = 3653
_COUNT = re.compile(r"^[0-9]{1,20}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def fred_arguments(parameters: Mapping[str, Any], max_days: int = MAX_DAYS) -> list[str]:
    """The command-line arguments of a run request's ``fredArgs``, checked (see the
    module's rules); InvalidParameters naming the first entry that breaks one."""
    args = parameters.get("fredArgs")
    if not isinstance(args, Sequence) or isinstance(args, str) or not args:
        raise InvalidParameters("fredArgs is required: a non-empty list of "
                                '{"flag": ..., "value": ...} objects')
    if len(args) > MAX_ARGS:
        raise InvalidParameters(f"fredArgs has {len(args)} entries; at most {MAX_ARGS}")
    command: list[str] = []
    dates: dict[str, date] = {}
    for index, arg in enumerate(args):
        flag, value = _entry(index, arg)
        kind = OPTIONS[flag]
        where = f"fredArgs[{index}] ({flag})"
        if kind == FILE:
            relative_path(value, where)
        elif kind == OVERRIDE:
            _override(value, where)
        elif kind == COUNT and not _COUNT.match(value):
            raise InvalidParameters(f"{where}: the seed must be a non-negative integer, "
                                    f"got {value!r}")
        elif kind == LOCATION:
            _location(value, where)
        elif kind == DATE:
            dates[flag] = _date(value, where)
        command += [flag, value]
    _check_span(dates.get("--start-date"), dates.get("--end-date"), max_days)
    return command


def file_arguments(command: Sequence[str]) -> list[tuple[str, str, bool]]:
    """The files the checked ``command`` names, each as (where it is in ``fredArgs``, its
    path, whether it must exist): ``-p``'s program file, and the value of each
    ``-o name=value`` that reads as a path."""
    found = []
    for index, (flag, value) in enumerate(zip(command[::2], command[1::2], strict=True)):
        where = f"fredArgs[{index}] ({flag})"
        if OPTIONS.get(flag) == FILE:
            found.append((where, value, True))
        elif OPTIONS.get(flag) == OVERRIDE:
            assigned = value.partition("=")[2].strip()
            if _reads_as_path(assigned):
                found.append((where, assigned, False))
    return found


def relative_path(value: str, where: str) -> PurePosixPath:
    """``value`` as a path relative to the job's inputs; refused when absolute, with
    ``..`` or ``~``, or empty, in words that say nothing of what is there."""
    path = PurePosixPath(value)
    if (not value.strip() or path.is_absolute() or value.startswith("~") or "\\" in value
            or ".." in path.parts):
        raise InvalidParameters(f"{where}: {outside_inputs()}")
    return path


def outside_inputs() -> str:
    """The one answer to a file argument that is not inside the job's inputs."""
    return ("files are named by their path inside the job's inputs.zip (such as "
            "main.fred), without '..' and not from '/'")


def inside_inputs(directory: Path, value: str, where: str, must_exist: bool) -> Path:
    """Where ``value`` leads from ``directory`` (the unpacked inputs), refused if it
    leads out of it, by ``..`` or by a link; with ``must_exist``, it must be a file."""
    relative_path(value, where)
    base = directory.resolve()
    target = (base / value).resolve()
    if target != base and base not in target.parents:
        raise InvalidParameters(f"{where}: {outside_inputs()}")
    if must_exist and not target.is_file():
        raise InvalidParameters(f"{where}: the job's inputs.zip holds no file {value!r}")
    return target


def _entry(index: int, arg: Any) -> tuple[str, str]:
    if not isinstance(arg, Mapping):
        raise InvalidParameters(f"fredArgs[{index}] must be an object with flag and value")
    flag, value = arg.get("flag"), arg.get("value")
    if flag in RESERVED:
        raise InvalidParameters(f"fredArgs[{index}]: {flag} is set by simdock (the "
                                "output directory)")
    if not isinstance(flag, str) or flag not in OPTIONS:
        raise InvalidParameters(f"fredArgs[{index}].flag must be one of "
                                f"{', '.join(OPTIONS)}, got {flag!r}")
    if value is None:
        raise InvalidParameters(f"fredArgs[{index}] ({flag}) needs a value")
    if not isinstance(value, str | int) or isinstance(value, bool) \
            or len(str(value)) > MAX_VALUE_LENGTH:
        raise InvalidParameters(f"fredArgs[{index}].value must be a string of at most "
                                f"{MAX_VALUE_LENGTH} characters")
    text = str(value)
    if _CONTROL.search(text):
        raise InvalidParameters(f"fredArgs[{index}].value holds a control character")
    if text.startswith("-"):
        raise InvalidParameters(f"fredArgs[{index}].value must not start with '-' (FRED "
                                "would read it as an option)")
    return flag, text


def _override(value: str, where: str) -> None:
    name, equals, assigned = value.partition("=")
    if not equals or not name.strip() or len(name) > 128:
        raise InvalidParameters(f"{where}: a parameter override is name=value, got {value!r}")
    if _reads_as_path(assigned.strip()):
        relative_path(assigned.strip(), where)


def _reads_as_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.startswith("~") or value in {".", ".."}


def _location(value: str, where: str) -> None:
    if "/" in value or "\\" in value or value.startswith(".") or not value.strip():
        raise InvalidParameters(f"{where}: a location is a name such as Loving_County_TX, "
                                f"not a path, got {value!r}")


def _date(value: str, where: str) -> date:
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidParameters(f"{where}: a date is YYYY-MM-DD, got {value!r}") from None


def _check_span(start: date | None, end: date | None, max_days: int) -> None:
    """A run simulates at most ``max_days`` days (FRED_MAX_DAYS)."""
    if end is None:
        return
    if start is not None and end < start:
        raise InvalidParameters(f"--end-date {end} is before --start-date {start}")
    origin = start or date.today()
    if end - origin >= timedelta(days=max_days):
        since = f"--start-date {start}" if start else "today (there is no --start-date)"
        raise InvalidParameters(
            f"--end-date {end} makes {(end - origin).days + 1} simulated days from {since}; "
            f"a FRED run simulates at most {max_days} days here (FRED_MAX_DAYS)")
