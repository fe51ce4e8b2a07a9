"""Dramatiq workers on Redis and RabbitMQ share one sweep; one killed, the other finishes.

Runs go through real ``simdock worker`` processes consuming a real broker and
sharing one PostgreSQL database and one blob directory. ``kill -9`` of one
worker in the middle leaves its runs' leases to lapse; the other worker takes
them back: every run ends succeeded, with one result, executed at most twice.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import simdock
from simdock.domain import RunStatus
from tests.brokers import delete_queues, queue_prefix, require_rabbitmq, require_redis
from tests.databases import migrated_postgres

SIMDOCK = Path(sys.executable).parent / "simdock"
RUNS = 200


def worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(SIMDOCK), "worker", "--concurrency", "2"], env=env,
                            start_new_session=True, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


@pytest.mark.parametrize("broker", [
    pytest.param(("REDIS_URL", require_redis), id="redis"),
    pytest.param(("RABBITMQ_URL", require_rabbitmq), id="rabbitmq"),
])
def test_two_workers_share_a_sweep_and_one_killed_loses_nothing(
        broker: tuple[str, Callable[[], str]], tmp_path: Path) -> None:
    name, require = broker
    settings = {name: require(), "BROKER_QUEUE_PREFIX": queue_prefix(),
                "DATABASE_URL": migrated_postgres("dramatiq"),
                "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "LEASE_SECONDS": "3",
                "HEARTBEAT_SECONDS": "0.5", "LOG_LEVEL": "WARNING"}
    env = {**os.environ, **settings}
    with simdock.connect(**{k.lower(): v for k, v in settings.items()
                            if k not in ("LOG_LEVEL",)}) as dock:
        first, second = worker(env, tmp_path / "w1.log"), worker(env, tmp_path / "w2.log")
        victim, survivor = (f"{socket.gethostname()}:{p.pid}" for p in (first, second))
        try:
            sweep = dock.sweep("sleep", grid={"seconds": [0.05 + i / 100_000
                                                          for i in range(RUNS)]})
            deadline = time.monotonic() + 60
            while True:
                with dock.platform.uow() as uow:
                    runs = uow.runs.for_job(sweep.id)
                held = {r.id for r in runs if r.status is RunStatus.RUNNING
                        and r.worker == victim}
                done = sum(r.status is RunStatus.SUCCEEDED for r in runs)
                if held and done >= 30:
                    break
                assert time.monotonic() < deadline, (tmp_path / "w1.log").read_text()[-2000:]
                time.sleep(0.01)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
            with dock.platform.uow() as uow:  # before its leases lapse: what it held
                held = {r.id for r in uow.runs.for_job(sweep.id)
                        if r.status is RunStatus.RUNNING and r.worker == victim}
            sweep.wait(timeout=120)
        finally:
            for process in (first, second):
                if process.poll() is None:
                    process.terminate()
                    process.wait(20)
            delete_queues(dock.platform.dispatcher.broker,  # type: ignore[attr-defined]
                          dock.platform.dispatcher.queues)  # type: ignore[attr-defined]
        with dock.platform.uow() as uow:
            stored = uow.runs.for_job(sweep.id)
    assert [r.status for r in stored] == [RunStatus.SUCCEEDED] * RUNS, \
        (tmp_path / "w2.log").read_text()[-3000:]
    assert all(r.result is not None for r in stored)
    # What the killed worker held (executing, or claimed in its batch) was taken back and
    # done once more by the other; everything else was done once.
    for run in stored:
        if run.id in held:
            assert (run.attempts, run.worker) == (2, survivor), run
    assert {r.attempts for r in stored if r.id not in held} == {1}
    assert {r.worker for r in stored} == {victim, survivor}
