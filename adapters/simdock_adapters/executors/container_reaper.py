"""Removes the containers of attempts that are over, from any worker sharing the engine.

A container run's container belongs to one attempt at one run, of one
deployment (its labels: ``io.simdock.deployment``, ``.run``, ``.attempt``,
``.worker``). The worker executing it removes it when the attempt ends. A worker
that was killed, or cut off from the store while its run was taken back,
cannot; its container would run on, or stay, for good. So every process that
executes container runs looks at its deployment's containers on its engine
every ``REAP_SECONDS``, asks the store about the attempts of those it is not
executing itself, and removes the containers whose attempt is over: its run was
taken back (queued again, or claimed by another attempt), cancelled, or
finished by another attempt (:func:`simdock.usecases.leftovers.dead_attempts`;
a run the store does not know is left alone). A container of the handler pool
(``HANDLER_ISOLATION=container``) belongs to a worker process, not an attempt:
it is removed once that process has gone from this host. Containers without
this deployment's label (another deployment's, or none of simdock's) are never
touched, whoever else uses the engine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Collection, Sequence
from typing import Any

from simdock.faults import FaultLog
from simdock.usecases.leftovers import Attempt
from simdock_adapters.executors.containers import (
    ATTEMPT_LABEL,
    DEPLOYMENT_LABEL,
    HOST_LABEL,
    RUN_LABEL,
    WORKER_LABEL,
    DockerExecutor,
)

log = logging.getLogger(__name__)

#: How often a worker looks for containers whose attempt is over, seconds.
REAP_SECONDS = 2.0
ENGINE_AWAY = "cannot look for containers of attempts that are over"


class ContainerReaper:
    """Every ``seconds``, removes the deployment's containers that ``dead`` (the store's
    answer: which of these attempts are over) says no attempt needs any more."""

    def __init__(self, executor: DockerExecutor,
                 dead: Callable[[Sequence[Attempt]], Collection[Attempt]],
                 seconds: float = REAP_SECONDS) -> None:
        self.executor = executor
        self.dead = dead
        self.seconds = seconds
        self.faults = FaultLog(log)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ContainerReaper:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name="simdock-container-reaper")
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.seconds + 30)

    def _loop(self) -> None:
        while True:
            try:
                self.sweep()
                self.faults.recovered(ENGINE_AWAY, "looking for containers of attempts "
                                                   "that are over again")
            except Exception as exc:  # the engine or the store is away: next time
                self.faults.failed(ENGINE_AWAY, "%s: %s", ENGINE_AWAY, exc)
            if self._stop.wait(self.seconds):
                return

    def sweep(self) -> int:
        """One look at the engine: remove what no attempt needs; how many were removed."""
        executor = self.executor
        containers = executor.client().containers.list(
            all=True, filters={"label": [f"{DEPLOYMENT_LABEL}={executor.deployment}"]})
        mine = executor.running()
        attempts: dict[Attempt, list[Any]] = {}
        removed = 0
        for container in containers:
            if container.id in mine:
                continue
            labels = container.labels
            worker = labels.get(WORKER_LABEL, "")
            number = labels.get(ATTEMPT_LABEL)
            if number is None or not number.isdigit():  # a handler container
                if worker != executor.worker_name and labels.get(HOST_LABEL) == executor.host \
                        and not process_alive(worker, executor.host):
                    removed += _remove(container, f"its worker {worker} is gone")
                continue
            attempt = Attempt(labels.get(RUN_LABEL, ""), int(number), worker)
            attempts.setdefault(attempt, []).append(container)
        if attempts:
            for attempt in self.dead(list(attempts)):
                for container in attempts.get(attempt, []):
                    removed += _remove(container, f"attempt {attempt.number} of run "
                                                  f"{attempt.run_id} is over")
        return removed


def _remove(container: Any, why: str) -> int:
    """Remove ``container`` (killing it if it runs); 1 if it was removed here."""
    with contextlib.suppress(Exception):
        container.remove(force=True)
        log.warning("removed container %s of %s, started by worker %s: %s",
                    container.short_id, container.labels.get(RUN_LABEL),
                    container.labels.get(WORKER_LABEL), why)
        return 1
    return 0


def process_alive(worker: str, host: str) -> bool:
    """Whether the worker named ``host:pid`` still runs on this host."""
    name, _, pid = worker.rpartition(":")
    if name != host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
