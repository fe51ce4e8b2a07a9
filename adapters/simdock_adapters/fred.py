"""Running FRED (the Epistemix epidemic simulator) as a simdock handler.

A FRED run's parameters are the Epistemix run request (``fredArgs``, ``fredVersion``,
``population``...). The run unpacks its job's ``inputs.zip`` (``main.fred`` and its
reference files) into a directory of its own, runs the FRED program there with the
request's ``fredArgs`` plus ``-d <outputs>``, streams what it prints into the run's
log, and leaves its outputs under ``work/outputs/`` of the run's scratch directory,
so that they become the run's artifacts and its results archive has FRED's layout.

The program is ``binary`` when one is configured (``FRED_BINARY``), else the stand-in
model shipped with the sample simulations (``python -m simdock_sim.fred_standin``),
which is not FRED but reads the same arguments and writes outputs in FRED 11's layout.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
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
from simdock.errors import ExecutionError, InvalidParameters, RunCancelled
from simdock.handlers import ProgressCallback, SimulationHandler

#: Where the outputs go, relative to the run's scratch directory (the layout of the
#: results archives the epx client reads).
OUTPUTS = Path("work/outputs")
INPUT_ARCHIVE = "inputs.zip"
#: The stand-in model run when no FRED program is configured (not FRED).
STANDIN = "simdock_sim.fred_standin"
_FLAG = re.compile(r"^--?[A-Za-z][A-Za-z0-9_-]{0,63}$")
#: Flags simdock sets itself: where outputs go is not the request's to choose.
_RESERVED = frozenset({"-d", "--directory"})
MAX_ARGS = 1_000
MAX_VALUE_LENGTH = 4_096
POLL_SECONDS = 0.1
LAST_LINES = 20


class FredHandler(SimulationHandler):
    """Executes one FRED run; ``binary`` is the FRED program, None for the stand-in."""

    #: The epx client lists a run's results as soon as it sees it finished.
    archives_results = True

    def __init__(self, binary: str | None = None, limits: ArchiveLimits | None = None) -> None:
        self.binary = binary
        self.limits = limits or ArchiveLimits()

    def validate(self, parameters: Mapping[str, Any]) -> None:
        fred_arguments(parameters)

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        context: Any = progress_callback
        if context is None or not hasattr(context, "inputs"):
            raise ExecutionError("FRED runs need a run context with the job's input files")
        arguments = fred_arguments(parameters)
        archive = Path(context.inputs) / INPUT_ARCHIVE
        if not archive.is_file():
            raise ExecutionError(f"the job has no {INPUT_ARCHIVE}: upload its inputs "
                                 "before its runs start")
        outputs = Path(context.workdir) / OUTPUTS
        outputs.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="simdock-fred-") as model:
            unpack_archive(archive, Path(model), INPUT_ARCHIVE, self.limits)
            command = [*self._program(), *arguments, "-d", str(outputs)]
            code, last = _supervise(command, Path(model), context)
        if code != 0:
            _ensure_logs(outputs, last, code)
            tail = " | ".join(last[-5:])
            raise ExecutionError(f"FRED exited with status {code}" + (f": {tail}" if tail
                                                                      else ""))
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


def fred_arguments(parameters: Mapping[str, Any]) -> list[str]:
    """The command-line arguments of a run request's ``fredArgs``, checked: each a
    ``{"flag", "value"}`` object with a flag like ``-p`` or ``--start-date``."""
    args = parameters.get("fredArgs")
    if not isinstance(args, Sequence) or isinstance(args, str) or not args:
        raise InvalidParameters("fredArgs is required: a non-empty list of "
                                '{"flag": ..., "value": ...} objects')
    if len(args) > MAX_ARGS:
        raise InvalidParameters(f"fredArgs has {len(args)} entries; at most {MAX_ARGS}")
    command: list[str] = []
    for index, arg in enumerate(args):
        if not isinstance(arg, Mapping):
            raise InvalidParameters(f"fredArgs[{index}] must be an object with flag and value")
        flag, value = arg.get("flag"), arg.get("value")
        if not isinstance(flag, str) or not _FLAG.match(flag):
            raise InvalidParameters(f"fredArgs[{index}].flag must look like -p or "
                                    f"--start-date, got {flag!r}")
        if flag in _RESERVED:
            raise InvalidParameters(f"fredArgs[{index}]: {flag} is set by simdock (the "
                                    "output directory)")
        if value is None:
            command.append(flag)
            continue
        if not isinstance(value, str | int | float) or isinstance(value, bool) \
                or len(str(value)) > MAX_VALUE_LENGTH:
            raise InvalidParameters(f"fredArgs[{index}].value must be a string of at most "
                                    f"{MAX_VALUE_LENGTH} characters")
        command += [flag, str(value)]
    return command


def _supervise(command: list[str], cwd: Path, context: Any) -> tuple[int, list[str]]:
    """Run ``command`` in ``cwd`` until it ends, its lines going to the run's log; killed
    (with what it started) once the run is cancelled or out of time. Returns its exit
    status and its last lines."""
    environment = {**os.environ, "SIMDOCK_ATTEMPT": str(getattr(context, "attempt", 1)),
                   "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    last: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=_relay, args=(process.stdout, context, last),
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


def _relay(stream: IO[bytes], context: Any, last: list[str]) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        if not line:
            continue
        context.log(line)
        last.append(line)
        del last[:-LAST_LINES]


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
