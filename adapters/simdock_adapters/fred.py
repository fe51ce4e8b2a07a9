"""Running FRED (the Epistemix epidemic simulator) as a simdock handler.

A FRED run's parameters are the Epistemix run request (``fredArgs``, ``fredVersion``,
``population``...). The run unpacks its job's ``inputs.zip`` (``main.fred`` and its
reference files) into a run directory of its own, runs the FRED program there with
the request's ``fredArgs`` (checked: :mod:`simdock_adapters.fred_arguments`) plus
``-d outputs``, streams what it prints into the run's log, and moves its outputs to
``work/outputs/`` of the run's scratch directory, so that they become the run's
artifacts and its results archive has FRED's layout.

The program starts with the minimal environment of user code (none of the server's
variables), ``HOME`` and ``TMPDIR`` inside the run directory, which is all it is told
of where it runs: its arguments are relative paths, and the run directory's place on
the server is shown as ``.`` in the run's log and errors.

The program is ``binary`` when one is configured (``FRED_BINARY``), else the stand-in
model shipped with the sample simulations (``python -m simdock_sim.fred_standin``),
which is not FRED but reads the same arguments and writes outputs in FRED 11's layout.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from simdock.domain.archives import ArchiveLimits, unpack_archive
from simdock.domain.run_identity import Declared
from simdock.errors import ExecutionError, InvalidParameters, RunCancelled
from simdock.handlers import ProgressCallback, SimulationHandler
from simdock_adapters.executors.environment import user_environment
from simdock_adapters.fred_arguments import (
    MAX_DAYS,
    SEED_FLAGS,
    file_arguments,
    fred_arguments,
    inside_inputs,
)

__all__ = ["FredHandler", "fred_arguments"]

#: Where the outputs go, relative to the run's scratch directory (the layout of the
#: results archives the epx client reads).
OUTPUTS = Path("work/outputs")
INPUT_ARCHIVE = "inputs.zip"
#: Where the program writes its outputs, relative to its working directory (``-d``).
PROGRAM_OUTPUTS = "outputs"
#: The stand-in model run when no FRED program is configured (not FRED).
STANDIN = "simdock_sim.fred_standin"
POLL_SECONDS = 0.1
#: What a program prints when it could not allocate memory (Python, C++, C).
_OUT_OF_MEMORY = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")
LAST_LINES = 20


class FredHandler(SimulationHandler):
    """Executes one FRED run; ``binary`` is the FRED program, None for the stand-in;
    ``max_days`` the most days a run may simulate (FRED_MAX_DAYS)."""

    #: The epx client lists a run's results as soon as it sees it finished.
    archives_results = True

    def __init__(self, binary: str | None = None, limits: ArchiveLimits | None = None,
                 max_days: int = MAX_DAYS) -> None:
        self.binary = binary
        self.limits = limits or ArchiveLimits()
        self.max_days = max_days

    def validate(self, parameters: Mapping[str, Any]) -> None:
        fred_arguments(parameters, self.max_days)

    def declared(self) -> Declared:
        """A FRED run is reusable: its seed is among its arguments (the epx client sends one
        with every run; without one the model takes its own default), so the same program
        on the same request and inputs computes the same run. Its version is the program's:
        the SHA-256 of the FRED binary's bytes (or the stand-in's source), so a new build is
        another version; none (never reused) where the program cannot be found."""
        try:
            program = Path(self._program()[-1])
        except ExecutionError:
            return Declared()
        if self.binary and not program.is_file():
            found = shutil.which(self.binary)
            if found is None:
                return Declared()
            program = Path(found)
        return Declared(version=program_version(program))

    def unseeded(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """A run request without its seed (``-r``/``-s`` among its ``fredArgs``): the runs
        the epx client makes of one configuration's ``n_reps`` share it."""
        args = parameters.get("fredArgs")
        if not isinstance(args, list):
            return dict(parameters)
        return {**parameters, "fredArgs": [arg for arg in args if not (
            isinstance(arg, Mapping) and arg.get("flag") in SEED_FLAGS)]}

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        context: Any = progress_callback
        if context is None or not hasattr(context, "inputs"):
            raise ExecutionError("FRED runs need a run context with the job's input files")
        try:  # checked again: the rules may have changed since the run was queued
            arguments = fred_arguments(parameters, self.max_days)
        except InvalidParameters as exc:
            raise ExecutionError(exc.message) from None
        archive = Path(context.inputs) / INPUT_ARCHIVE
        if not archive.is_file():
            raise ExecutionError(f"the job has no {INPUT_ARCHIVE}: upload its inputs "
                                 "before its runs start")
        outputs = Path(context.workdir) / OUTPUTS
        outputs.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="simdock-fred-") as scratch:
            run = RunDirectory(Path(scratch))
            unpack_archive(archive, run.work, INPUT_ARCHIVE, self.limits)
            produced = run.prepare(arguments)
            command = [*self._program(), *arguments, "-d", PROGRAM_OUTPUTS]
            try:
                code, last = _supervise(command, run, context)
            finally:
                _move_into(produced, outputs)
        if code != 0:
            _ensure_logs(outputs, last, code)
            tail = " | ".join(last[-5:])
            failure = f"FRED exited with status {code}" + (f": {tail}" if tail else "")
            if any(sign in line for line in last[-5:] for sign in _OUT_OF_MEMORY):
                # The run's process limits its memory, and the program inherits the limit:
                # its executor says which (as it does for the handler's own allocations).
                raise MemoryError(failure)
            raise ExecutionError(failure)
        return {"return_code": code,
                "outputs": sorted(p.relative_to(outputs).as_posix()
                                  for p in outputs.rglob("*") if p.is_file())}

    def _program(self) -> list[str]:
        if self.binary:
            return [self.binary]
        # By its file: where this handler runs (a handler container, whose interpreter
        # knows simdock's modules only as paths added at run time) it is all it needs.
        spec = importlib.util.find_spec(STANDIN)
        if spec is None or spec.origin is None:
            raise ExecutionError(f"neither FRED_BINARY nor the stand-in {STANDIN} is installed")
        return [sys.executable, spec.origin]


def program_version(program: Path) -> str | None:
    """The SHA-256 of ``program``'s bytes (None where it cannot be read), read again only
    when its size or modification time changes."""
    try:
        stat = program.stat()
    except OSError:
        return None
    return _file_sha256(str(program.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str | None:
    try:
        with open(path, "rb") as source:
            return hashlib.file_digest(source, "sha256").hexdigest()
    except OSError:
        return None


class RunDirectory:
    """Where one FRED run executes: ``work/`` (the unpacked inputs, the program's working
    directory, with its ``outputs/``), and ``home/`` and ``tmp/`` for its HOME and TMPDIR.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / "work"
        for directory in (self.work, root / "home", root / "tmp"):
            directory.mkdir(mode=0o700)

    def prepare(self, arguments: Sequence[str]) -> Path:
        """Check that the files ``arguments`` name are inside the unpacked inputs; returns
        the (new) directory the program writes its outputs to."""
        for where, value, must_exist in file_arguments(arguments):
            try:
                inside_inputs(self.work, value, where, must_exist)
            except InvalidParameters as exc:
                raise ExecutionError(exc.message) from None
        produced = self.work / PROGRAM_OUTPUTS
        if produced.exists() or produced.is_symlink():
            raise ExecutionError(f"the job's {INPUT_ARCHIVE} holds {PROGRAM_OUTPUTS!r}, where "
                                 "FRED writes its outputs: rename it")
        produced.mkdir()
        return produced

    def environment(self, attempt: int) -> dict[str, str]:
        """The program's whole environment."""
        return user_environment(self.root / "home", self.root / "tmp",
                                {"SIMDOCK_ATTEMPT": str(attempt), "PYTHONUNBUFFERED": "1"})

    def shown(self, line: str) -> str:
        """``line`` with this directory's place on the server said relative to ``work/``
        (``.``), so that the run's log shows none of the server's paths."""
        places = {str(self.work): ".", str(self.root): ".."}
        places.update({str(self.work.resolve()): ".", str(self.root.resolve()): ".."})
        for place in sorted(places, key=len, reverse=True):
            line = line.replace(place, places[place])
        return line


def _supervise(command: list[str], run: RunDirectory, context: Any) -> tuple[int, list[str]]:
    """Run ``command`` in ``run``'s working directory until it ends, its lines going to the
    run's log; killed (with what it started) once the run is cancelled or out of time.
    Returns its exit status and its last lines."""
    process = subprocess.Popen(command, cwd=run.work,
                               env=run.environment(getattr(context, "attempt", 1)),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    last: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=_relay, args=(process.stdout, run, context, last),
                              daemon=True, name="simdock-fred-output")
    reader.start()
    try:
        while process.poll() is None:
            if getattr(context, "cancelled", False):
                raise RunCancelled(f"run '{context.run_id}' was cancelled")
            time.sleep(POLL_SECONDS)
    finally:
        if process.poll() is None:
            # In a child process of the process executor, the program is in the child's
            # process group: killing the child (a time limit) kills it too.
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
        reader.join(timeout=5)
    return process.returncode, last


def _relay(stream: IO[bytes], run: RunDirectory, context: Any, last: list[str]) -> None:
    for raw in stream:
        line = run.shown(raw.decode("utf-8", "replace").rstrip())
        if not line:
            continue
        context.log(line)
        last.append(line)
        del last[:-LAST_LINES]


def _move_into(produced: Path, outputs: Path) -> None:
    """Move what the program wrote to the run's outputs (links are left behind: they
    could lead anywhere)."""
    if not produced.is_dir():
        return
    for entry in produced.iterdir():
        if not entry.is_symlink():
            shutil.move(entry, outputs / entry.name)


def _ensure_logs(outputs: Path, last: list[str], code: int) -> None:
    """A failed FRED run's ``logs.txt`` says why, even when the program wrote none."""
    logs = outputs / "logs.txt"
    if logs.exists():
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    lines = [f"[{stamp}] ERROR: {line}" for line in last] or [
        f"[{stamp}] ERROR: FRED exited with status {code}"]
    logs.write_text("\n".join(lines) + "\n")
    (outputs / "return_code.txt").write_text(f"{code}\n")
