"""A cancel reaches a silent run executing in another process, and stops it within 2 s.

Seen before: a handler that never reported progress kept running after its
run was cancelled (a thread cannot be stopped), and a worker's threads grew
with such handlers. Here a ``simdock worker`` process (Dramatiq on Redis, or
polling the database) executes a ``sleep`` run, which reports nothing; the
run is cancelled from this process, through the shared PostgreSQL database.
The worker learns of it at its next heartbeat and kills the child process
executing the handler; its one slot then takes the next run at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import simdock
from simdock.notebook import Dock
from tests.brokers import queue_prefix, require_redis
from tests.databases import migrated_postgres

SIMDOCK = Path(sys.executable).parent / "simdock"
CHILD = b"simdock_adapters.executors.child"


def children_executing_handlers(parent: int) -> set[int]:
    """The child processes of ``parent`` that execute handlers."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and CHILD in command:
            found.add(int(stat.parent.name))
    return found


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, what
        time.sleep(0.02)
    return time.monotonic() - started


def deployments() -> list[object]:
    return [pytest.param(lambda: {"REDIS_URL": require_redis(),
                                  "BROKER_QUEUE_PREFIX": queue_prefix()}, id="dramatiq-redis"),
            pytest.param(lambda: {"DISPATCH": "database"}, id="database-worker")]


@pytest.fixture(params=deployments())
def deployment(request: pytest.FixtureRequest, tmp_path: Path
               ) -> Iterator[tuple[Dock, subprocess.Popen[bytes], Path]]:
    settings = {**request.param(), "DATABASE_URL": migrated_postgres("cancel_elsewhere"),
                "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "LOG_LEVEL": "WARNING"}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([str(SIMDOCK), "worker", "--concurrency", "1"],
                              env={**os.environ, **settings}, start_new_session=True,
                              stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        with simdock.connect(**{k.lower(): v for k, v in settings.items()
                                if k != "LOG_LEVEL"}) as dock:
            yield dock, worker, log
    finally:
        worker.terminate()
        worker.wait(30)


def test_a_silent_run_in_another_process_is_stopped_within_two_seconds_of_its_cancel(
        deployment: tuple[Dock, subprocess.Popen[bytes], Path]) -> None:
    dock, worker, log = deployment
    job = dock.submit("sleep", {"seconds": 120})
    wait_for(lambda: job.status == "running", 60,
             f"the worker never started the run: {log.read_text()[-2000:]}")
    wait_for(lambda: bool(children_executing_handlers(worker.pid)), 10,
             "no child process executes the run")
    executing = children_executing_handlers(worker.pid)

    job.cancel()
    stopped_after = wait_for(lambda: not executing & children_executing_handlers(worker.pid),
                             2.0, "the child executing the cancelled run still runs 2 s later")

    assert job.status == "cancelled"
    assert worker.poll() is None  # the worker itself goes on
    following = dock.submit("noop", {"n": 1})
    following.wait(timeout=30)
    assert following.status == "succeeded", log.read_text()[-2000:]
    print(f"stopped {stopped_after:.2f} s after the cancel")
