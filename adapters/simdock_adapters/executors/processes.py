"""Executes registered handlers in pooled child processes, which cancel and time limits stop.

A thread cannot be stopped: a handler that never reports progress, or sits in
native code, kept its thread after a cancel or a time limit (a worker's
threads grew with hung handlers). Here each run's handler executes in a child
process (:mod:`simdock_adapters.executors.child`) taken from a pool; what it
reports comes back over a pipe to the run's context in this process, which
writes it. A cancel (a user's, or one a heartbeat learns of) or a time limit is
passed to the child, whose handler stops at its next progress report; a child
that has not stopped after ``grace_seconds`` is killed with everything it
started, its slot freed at once. A child that ends on its own (killed by the
kernel for memory, crashed in native code) fails its run saying so.

Children are fresh interpreters (a fork of this process would share its
threads' locks and its connections), which import numpy and the handlers'
modules as they start. A child that finished its run stays for the next one,
so that starting one is paid once per slot, and again only after a kill.

User code sees nothing of this process: a child starts with the minimal
environment of :mod:`~simdock_adapters.executors.environment` (no credential of
the server's), with ``HOME`` and ``TMPDIR`` in a private scratch directory that
is emptied after each run, and limits what each run may allocate
(:mod:`~simdock_adapters.executors.memory_limit`).

A handler that cannot be pickled (a class defined in a notebook) cannot reach
a child; it executes in ``fallback`` (a thread executor) when one is given.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from simdock.domain.run_identity import Declared
from simdock.errors import (
    ExecutionError,
    ExecutorUnavailable,
    HandlerFailed,
    RunCancelled,
    RunTimedOut,
)
from simdock.handlers import SimulationHandler, SimulationHandlerRegistry
from simdock.ports import ExecutionTask, Executor, ParameterCheck, RunContext
from simdock_adapters.executors import child
from simdock_adapters.executors.checks import handler_checker
from simdock_adapters.executors.environment import fresh_directories, user_environment
from simdock_adapters.executors.memory_limit import MIB

log = logging.getLogger(__name__)

#: How often a waiting run looks at its cancel flag and time limit when the child is quiet.
POLL_SECONDS = 0.05
#: Modules a child imports as it starts, before its first run.
PRELOAD = ("numpy",)


class Child(Protocol):
    """A child that executes runs: its connection, and how to end it."""

    connection: Connection

    def alive(self) -> bool: ...
    def kill(self) -> None:
        """End the child and everything it started, now."""

    def close(self) -> None: ...

    def clear(self) -> None:
        """Empty the HOME and TMPDIR the run that just ended used, for the next run."""

    @property
    def exit_description(self) -> str:
        """How it ended, for the error of a run it was executing."""


class ProcessChild:
    """One child process and this process's ends of its connection and lifeline.

    The child is a fresh interpreter (not a fork of this process, whose threads,
    locks and connections it must not share) in a session of its own, so that
    killing its process group stops whatever the handler started too. Its
    environment is the allow-list's, its ``HOME`` and ``TMPDIR`` in a scratch
    directory of its own; ``memory_mb`` is what a run may allocate (None: no limit).
    """

    def __init__(self, preload: Sequence[str], memory_mb: int | None = None) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="simdock-child-"))
        self.clear()
        ours, theirs = socket.socketpair()
        lifeline_read, self._lifeline = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from simdock_adapters.executors.child import main; "
                                       "main()"],
                pass_fds=(theirs.fileno(), lifeline_read), start_new_session=True,
                env=user_environment(
                    self.scratch / "home", self.scratch / "tmp",
                    {child.FDS: f"{theirs.fileno()},{lifeline_read}"}))
        except BaseException:
            ours.close()
            os.close(self._lifeline)
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise
        finally:
            theirs.close()
            os.close(lifeline_read)
        self.connection = Connection(ours.detach())
        self.connection.send(("setup", sys.path, list(preload), memory_mb))

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """End the child and everything it started, now."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def close(self) -> None:
        self.connection.close()
        with contextlib.suppress(OSError):
            os.close(self._lifeline)

    def clear(self) -> None:
        fresh_directories(self.scratch / "home", self.scratch / "tmp")

    @property
    def exit_description(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(1)
        code = self.process.returncode
        if code is None:
            return "still running"
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"


class ProcessExecutor:
    """Runs each run's registered handler in a child process of a pool."""

    def __init__(self, registry: SimulationHandlerRegistry, max_run_memory: int | None = None,
                 grace_seconds: float = 0.5, fallback: Executor | None = None,
                 preload: Sequence[str] = ()) -> None:
        """``max_run_memory``: the bytes one run may need (its handler's estimate), or None;
        ``grace_seconds``: how long a cancelled handler may take to stop before its child is
        killed; ``preload``: modules of handlers for each child to import as it starts.

        A child process limits what each run may allocate to ``max_run_memory`` (beyond what
        it holds as the run starts), so that the estimate checked at submission is also
        enforced.
        """
        self.registry = registry
        self.max_run_memory = max_run_memory
        self.grace_seconds = grace_seconds
        self.fallback = fallback
        self._preload = [*PRELOAD, *preload]
        self._idle: list[Child] = []
        self._busy: set[Child] = set()
        self._pickled: dict[tuple[str, int], bytes | None] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- Executor ----------------------------------------------------------
    def checker(self, simulation_type: str) -> ParameterCheck | None:
        return handler_checker(self.registry, simulation_type, self.max_run_memory)

    def simulation_types(self) -> list[str]:
        return list(self.registry.names())

    def declared(self, simulation_type: str) -> Declared:
        handler: SimulationHandler = self.registry.get(simulation_type)
        return handler.declared()

    def unseeded(self, simulation_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        handler: SimulationHandler = self.registry.get(simulation_type)
        return handler.unseeded(parameters)

    def execute(self, task: ExecutionTask, context: RunContext) -> Any:
        handler = self.registry.get(task.simulation_type)
        pickled = self._pickle(task.simulation_type, handler)
        if pickled is None:
            if self.fallback is None:
                raise ExecutorUnavailable(
                    f"the handler of '{task.simulation_type}' cannot be sent to a child "
                    "process (define its class in an importable module)")
            return self.fallback.execute(task, context)
        worker = self._take()
        supervision = Supervision(worker, task, context, self.grace_seconds,
                                  lambda kind: self._directory(kind, worker, context))
        try:
            worker.connection.send(("run", pickled, task.run_id, task.job_id,
                                    task.simulation_type, dict(task.parameters),
                                    task.attempt))
            return supervision.wait()
        finally:
            self._handed_back(worker, context)
            if supervision.answered and not supervision.retire and self._cleared(worker):
                self._give_back(worker)  # it ended its run (even a cancelled one) itself
            else:
                self._drop(worker)

    def close(self) -> None:
        """Stop every child (runs still executing in them are killed)."""
        with self._lock:
            self._closed = True
            children = [*self._idle, *self._busy]
            self._idle.clear()
            self._busy.clear()
        for worker in children:
            worker.kill()

    # -- the pool ----------------------------------------------------------
    def _take(self) -> Child:
        while True:
            with self._lock:
                if self._closed:
                    raise ExecutorUnavailable("this executor is closed")
                worker = self._idle.pop() if self._idle else None
            if worker is None:
                worker = self._spawn()
            elif not worker.alive():
                worker.close()
                continue
            with self._lock:
                self._busy.add(worker)
            return worker

    # -- what a kind of child decides ---------------------------------------
    def _spawn(self) -> Child:
        """A new child, ready for its first run."""
        return ProcessChild(self._preload, self.max_run_memory // MIB
                            if self.max_run_memory else None)

    def _directory(self, kind: str, worker: Child, context: RunContext) -> str:
        """Where the child's handler finds its run's scratch directory (``workdir``) or its
        job's input files (``inputs``)."""
        return str(context.workdir if kind == "workdir" else context.inputs)

    def _handed_back(self, worker: Child, context: RunContext) -> None:
        """The run in ``worker`` ended: what it left in its scratch directory is the run's."""

    def _cleared(self, worker: Child) -> bool:
        """Whether the child's HOME and TMPDIR are empty again, ready for another run."""
        try:
            worker.clear()
        except OSError:
            log.exception("could not empty a handler child's scratch directory")
            return False
        return True

    def _give_back(self, worker: Child) -> None:
        with self._lock:
            self._busy.discard(worker)
            if not self._closed:
                self._idle.append(worker)
                return
        worker.kill()

    def _drop(self, worker: Child) -> None:
        with self._lock:
            self._busy.discard(worker)
        worker.kill()

    def _pickle(self, simulation_type: str, handler: SimulationHandler) -> bytes | None:
        key = (simulation_type, id(handler))
        with self._lock:
            if key in self._pickled:
                return self._pickled[key]
        pickled: bytes | None
        try:
            if type(handler).__module__ == "__main__":
                # A child's __main__ is not this process's script (or notebook).
                raise pickle.PicklingError(f"{type(handler).__name__} is defined in __main__")
            pickled = pickle.dumps(handler)
            pickle.loads(pickled)  # its class must be importable by name, as in a child
        except Exception as exc:
            log.warning("the handler of %r cannot run in a child process (%s)%s",
                        simulation_type, exc,
                        "; it runs in a thread" if self.fallback is not None else "")
            pickled = None
        with self._lock:
            self._pickled[key] = pickled
        return pickled


class Supervision:
    """One run executing in a child: what it reports goes to the run's context; a cancel or
    its time limit stops it."""

    def __init__(self, worker: Child, task: ExecutionTask, context: RunContext,
                 grace_seconds: float, directory: Callable[[str], str]) -> None:
        """``directory``: the run's scratch directory (``workdir``) or its job's input
        files (``inputs``) as the child sees them."""
        self.worker = worker
        self.directory = directory
        self.task = task
        self.context = context
        self.grace_seconds = grace_seconds
        self.deadline = (time.monotonic() + task.timeout_seconds
                         if task.timeout_seconds is not None else None)
        #: Why the child is being stopped, and when it is killed if it has not stopped.
        self.stopping: ExecutionError | None = None
        self.kill_at = 0.0
        #: Whether the child answered (a result or a failure): it is ready for another run.
        self.answered = False
        #: Whether the child asked to be replaced after this run (it grew too large).
        self.retire = False

    def wait(self) -> Any:
        """The handler's result; raises its failure, or why it was stopped."""
        connection = self.worker.connection
        while True:
            self._notice_stop()
            if self.stopping is not None and time.monotonic() >= self.kill_at:
                raise self.stopping  # the caller kills the child
            try:
                ready = connection.poll(self._wait_seconds())
                message = connection.recv() if ready else None
            except (EOFError, OSError):
                raise self.stopping or HandlerFailed(
                    "the process executing the run ended unexpectedly "
                    f"({self.worker.exit_description})") from None
            if message is None:
                continue
            kind = message[0]
            self.answered = kind in ("done", "failed")
            if kind == "done":
                if self.stopping is not None:
                    raise self.stopping
                return message[1]
            if kind == "failed":
                raise self.stopping or self._failure(message)
            if kind == "retire":
                self.retire = True
                continue
            self._forward(message)

    def _notice_stop(self) -> None:
        if self.stopping is not None:
            return
        if self.context.cancelled:
            self._stop(RunCancelled(f"run '{self.task.run_id}' was cancelled"))
        elif self.deadline is not None and time.monotonic() >= self.deadline:
            self.context.cancel()
            self._stop(RunTimedOut(
                f"run exceeded its time limit of {self.task.timeout_seconds:g} s"))

    def _stop(self, reason: ExecutionError) -> None:
        self.stopping = reason
        self.kill_at = time.monotonic() + self.grace_seconds
        with contextlib.suppress(OSError):
            self.worker.connection.send(("cancel",))

    def _wait_seconds(self) -> float:
        until = self.kill_at if self.stopping is not None else self.deadline
        if until is None:
            return POLL_SECONDS
        return max(0.0, min(POLL_SECONDS, until - time.monotonic()))

    def _forward(self, message: tuple[Any, ...]) -> None:
        """Pass one report to the run's context (which may learn that the run was stopped)."""
        kind = message[0]
        try:
            if kind == "progress":
                self.context.progress(message[1])
            elif kind == "log":
                self.context.log(message[1], message[2])
            elif kind == "metric":
                self.context.metric(message[1], message[2], message[3])
            elif kind == "artifact":
                data = Path(message[2]) if isinstance(message[2], str) else message[2]
                self.context.artifact(message[1], data, message[3])
            elif kind in ("workdir", "inputs"):
                self.worker.connection.send((kind, self.directory(kind)))
        except ExecutionError as exc:  # cancelled, or no longer this attempt's
            if self.stopping is None:
                self._stop(exc)
        except Exception as exc:  # a report the context refuses fails the run
            if self.stopping is None:
                self._stop(HandlerFailed(f"{type(exc).__name__}: {exc}"))

    def _failure(self, message: tuple[Any, ...]) -> ExecutionError:
        _, error, text, trace = message
        if isinstance(error, ExecutionError):
            return error
        if trace:
            self.context.log(trace, "stderr")
        return HandlerFailed(text)
