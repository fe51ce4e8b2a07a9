"""Redis restarted in the middle of a sweep: every run still ends succeeded, once.

A Redis of this test's own (the shared one must not be stopped), with nothing
kept on disk, is killed while a ``simdock worker`` works through a sweep with
two threads, and started again empty: every wake-up message in it is lost. Runs
executing meanwhile hold their leases in PostgreSQL and finish; the runs still
queued have no message any more, and are claimed because idle workers wake
themselves while the store says runs are queued.

Seen before: the dispatcher counted the messages it had sent and not handled
itself, and woke itself only when that count was zero; messages lost with the
broker kept it above zero for good, and the sweep stayed queued.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import simdock
from simdock.domain import RunStatus
from tests.conftest import require_service
from tests.databases import migrated_postgres

SIMDOCK = Path(sys.executable).parent / "simdock"
RUNS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnRedis:
    """A redis-server on a port of its own that keeps nothing on disk."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            pytest.fail("redis-server is not installed") if os.environ.get(
                "SIMDOCK_REQUIRE_SERVICES") == "1" else pytest.skip("no redis-server")
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[OwnRedis]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def test_a_sweep_survives_a_restart_of_redis_that_loses_every_message(
        redis: OwnRedis, tmp_path: Path) -> None:
    settings = {"REDIS_URL": redis.url, "DATABASE_URL": migrated_postgres("broker_restart"),
                "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "LOG_LEVEL": "WARNING"}
    env = {**os.environ, **settings}
    logs = [tmp_path / "worker.log"]
    workers = [subprocess.Popen([str(SIMDOCK), "worker", "--concurrency", "2"], env=env,
                                start_new_session=True, stdout=log.open("w"),
                                stderr=subprocess.STDOUT) for log in logs]
    try:
        with simdock.connect(**{k.lower(): v for k, v in settings.items()
                                if k != "LOG_LEVEL"}) as dock:
            sweep = dock.sweep("sleep", grid={"seconds": [0.05 + i / 10_000
                                                          for i in range(RUNS)]})
            deadline = time.monotonic() + 60
            while dock.statistics()["succeeded"] < 20:
                assert time.monotonic() < deadline, logs[0].read_text()[-2000:]
                time.sleep(0.05)
            redis.kill()
            time.sleep(1.0)
            redis.start()
            sweep.wait(timeout=120)
            with dock.platform.uow() as uow:
                stored = uow.runs.for_job(sweep.id)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
    assert [r.status for r in stored] == [RunStatus.SUCCEEDED] * RUNS, \
        logs[0].read_text()[-3000:]
    assert all(r.result is not None for r in stored)
    assert {r.attempts for r in stored} == {1}  # no worker was lost: nothing done twice
