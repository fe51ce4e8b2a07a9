"""What a child process of the process executor does: execute handlers, one run at a time.

The child receives a run (its handler, pickled, and its parameters) over a
connection, executes the handler with a :class:`ChildContext`, and sends back
everything the handler reports (progress, log lines, metric points,
artifacts) as it happens, then the result or the failure. It stays for the
next run. A cancel from the parent is noticed at the handler's next progress
report; a handler that does not stop is killed by the parent. The child ends
itself (and whatever it started) once its parent is gone.

Messages (tuples, first item the kind):

- parent to child: ``("setup", sys_path, modules_to_import, memory_mb)`` first
  (``memory_mb``: what its runs may allocate, None for no limit of its own), then
  ``("run", handler, run_id, job_id, simulation_type, parameters, attempt)``,
  ``("workdir", path)``, ``("inputs", path)``, ``("cancel",)``
- child to parent: ``("progress", fraction)``, ``("log", message, stream)``,
  ``("retire",)`` (before its outcome: end this child after the run, it grew),
  ``("metric", name, value, step)``, ``("artifact", name, data, content_type)``
  (``data`` bytes, or a path as ``str``), ``("workdir",)``, ``("inputs",)``,
  ``("done", value)``,
  ``("failed", error, message, traceback)`` (``error`` the ExecutionError itself
  when it can travel, else None)
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from simdock.errors import ExecutionError, RunCancelled
from simdock.handlers import SimulationHandler
from simdock_adapters.executors.memory_limit import RunMemory, was_out_of_memory
from simdock_adapters.executors.tracebacks import handler_traceback

#: The environment variable naming a child's connection and lifeline file descriptors.
FDS = "SIMDOCK_CHILD_FDS"
#: The same for a child in a container: the paths of two Unix sockets.
SOCKETS = "SIMDOCK_CHILD_SOCKETS"
#: Whether this child's files are out of its parent's sight (a container's).
_SEPARATE_FILESYSTEM = False
#: What each run may allocate in this child, when the child limits its runs.
_MEMORY: RunMemory | None = None


class ChildContext:
    """The run's context as a handler in a child process sees it: each report goes to the
    parent, whose context writes it."""

    def __init__(self, connection: Connection, run_id: str, job_id: str, attempt: int = 1
                 ) -> None:
        self.run_id = run_id
        self.job_id = job_id
        self.attempt = attempt
        self._connection = connection
        self._cancelled = False
        self._paths: dict[str, Path] = {}

    def __call__(self, fraction: float) -> None:
        self.progress(fraction)

    def progress(self, fraction: float) -> None:
        """Report the fraction done; raises RunCancelled once the run was cancelled."""
        self._connection.send(("progress", float(fraction)))
        if self.cancelled:
            raise RunCancelled(f"run '{self.run_id}' was cancelled")

    def log(self, message: str, stream: str = "stdout") -> None:
        self._connection.send(("log", str(message), stream))

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        self._connection.send(("metric", name, float(value), step))

    def artifact(self, name: str, data: bytes | Path, content_type: str | None = None) -> None:
        if isinstance(data, Path) and _SEPARATE_FILESYSTEM:
            data = data.read_bytes()  # the parent cannot see this child's files
        payload: bytes | str = str(Path(data).resolve()) if isinstance(data, Path) \
            else bytes(data)
        self._connection.send(("artifact", name, payload, content_type))

    @property
    def workdir(self) -> Path:
        """The run's scratch directory (the parent's: files left there become artifacts)."""
        return self._path("workdir")

    @property
    def inputs(self) -> Path:
        """The directory holding the job's input files, as the parent placed them."""
        return self._path("inputs")

    def _path(self, kind: str) -> Path:
        if kind not in self._paths:
            self._connection.send((kind,))
            self._paths[kind] = Path(self._await(kind)[1])
        return self._paths[kind]

    @property
    def cancelled(self) -> bool:
        while not self._cancelled and self._connection.poll():
            self._take(self._connection.recv())
        return self._cancelled

    def cancel(self) -> None:
        self._cancelled = True

    def _await(self, kind: str) -> tuple[Any, ...]:
        while True:
            message = self._connection.recv()
            if message[0] == kind:
                return tuple(message)
            self._take(message)

    def _take(self, message: tuple[Any, ...]) -> None:
        if message[0] == "cancel":
            self._cancelled = True


def main() -> None:
    """Entry point of a child process: its ends of the connection and lifeline are the file
    descriptors named in ``SIMDOCK_CHILD_FDS``."""
    global _MEMORY
    connection_fd, lifeline_fd = (int(fd) for fd in os.environ.pop(FDS).split(","))
    threading.Thread(target=_end_with_parent, args=(lifeline_fd,), daemon=True,
                     name="simdock-lifeline").start()
    connection = Connection(connection_fd)
    try:
        kind, path, preload, memory_mb = connection.recv()
    except (EOFError, OSError):
        return
    assert kind == "setup"
    sys.path[:] = path  # the handlers' modules are found where the parent finds them
    for module in preload:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    if memory_mb:
        _MEMORY = RunMemory.for_this_process(memory_mb)
    serve(connection)


def _retires(outcome: tuple[Any, ...]) -> bool:
    """Whether this child is to be replaced after the run that ended with ``outcome``: the
    run ran out of memory, or the child grew by more than a run may allocate."""
    if _MEMORY is None:
        return False
    _MEMORY.note()
    ran_out = outcome[0] == "failed" and outcome[2] == _MEMORY.exhausted
    return ran_out or _MEMORY.grown()


def main_in_container() -> None:
    """Entry point of a child in a container: it connects to the Unix sockets (connection,
    lifeline) named in ``SIMDOCK_CHILD_SOCKETS``, in a directory shared with the parent.

    The container has no network and a filesystem of its own: the parent's module paths
    that are mounted into it are added to its own, and artifacts travel as bytes.
    """
    global _SEPARATE_FILESYSTEM
    _SEPARATE_FILESYSTEM = True
    connection_path, lifeline_path = os.environ[SOCKETS].split(",")
    lifeline = socket.socket(socket.AF_UNIX)
    lifeline.connect(lifeline_path)
    threading.Thread(target=_end_with_parent, args=(lifeline.fileno(),), daemon=True,
                     name="simdock-lifeline").start()
    channel = socket.socket(socket.AF_UNIX)
    channel.connect(connection_path)
    connection = Connection(channel.detach())
    try:
        kind, path, preload, _ = connection.recv()  # its container limits its memory
    except (EOFError, OSError):
        return
    assert kind == "setup"
    own = list(sys.path)
    sys.path[:] = [p for p in path if p and os.path.isdir(p) and p not in own] + own
    for module in preload:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    serve(connection)


def serve(connection: Connection) -> None:
    """The child's main loop: execute each run the parent sends, until it closes."""
    handlers: dict[bytes, SimulationHandler] = {}
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message[0] != "run":
            continue  # a cancel or reply that came after its run ended
        _, pickled, run_id, job_id, simulation_type, parameters, attempt = message
        outcome = _execute(connection, handlers, pickled, run_id, job_id, simulation_type,
                           parameters, attempt)
        if _retires(outcome):
            connection.send(("retire",))
        try:
            connection.send(outcome)  # pickled whole before anything is written
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            connection.send(("failed", None, "the handler returned a result that cannot be "
                                             f"sent back: {exc}", None))


def _execute(connection: Connection, handlers: dict[bytes, SimulationHandler], pickled: bytes,
             run_id: str, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
             attempt: int) -> tuple[Any, ...]:
    context = ChildContext(connection, run_id, job_id, attempt)
    try:
        handler = handlers.get(pickled)
        if handler is None:
            handler = handlers[pickled] = pickle.loads(pickled)
            if _MEMORY is not None:
                _MEMORY.note()  # what its modules take is not the run's
        if _MEMORY is not None:
            _MEMORY.limit()
        return ("done", handler.execute(run_id, simulation_type, dict(parameters), context))
    except ExecutionError as exc:
        return ("failed", _portable(exc), exc.message, None)
    except BaseException as exc:  # the handler's failure is the run's, never the child's
        if _MEMORY is not None and was_out_of_memory(exc):
            return ("failed", None, _MEMORY.exhausted, None)
        return ("failed", None, f"{type(exc).__name__}: {exc}", handler_traceback(exc))


def _portable(error: ExecutionError) -> ExecutionError | None:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return None
    return error


def _end_with_parent(lifeline: int) -> None:
    """Wait until the parent is gone (the lifeline's write end, which only the parent holds,
    closes), then end this child and everything it started: a run whose worker died is
    someone else's now."""
    with contextlib.suppress(OSError):
        while os.read(lifeline, 1):
            pass
    os.killpg(os.getpgrp(), signal.SIGKILL)
