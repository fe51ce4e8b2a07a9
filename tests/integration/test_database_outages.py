"""The database cut for 10 s, then 60 s, under a sweep: nothing is lost or run twice.

The executing processes reach PostgreSQL through a TCP proxy of this test's own
(the shared server is never stopped), which drops every connection and refuses
new ones while it is down. On SQLite (the embedded default) the cut is another
process holding the file's write lock: writers wait out their busy timeout, then
find the database unavailable. Two cuts: one about a lease long, one six leases
long, each made while runs are executing and reporting. Runs are ``ticks`` runs:
each reports progress, a log line and a metric point at every tick, so what a
cut may lose or duplicate is counted exactly. Deployments: the embedded
platform (runs on its threads, handlers in child processes) and two
``simdock worker`` processes on Dramatiq over Redis and over RabbitMQ.

Afterwards every run has succeeded at its first attempt (executed once), with
every log line and every metric point once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import simdock
from simdock.domain import Run, RunStatus
from simdock.repositories import UnitOfWork
from simdock_adapters.sql import SqlUnitOfWork, make_engine
from tests.brokers import delete_queues, queue_prefix, require_rabbitmq, require_redis
from tests.databases import migrated_postgres
from tests.proxy import TcpProxy

pytestmark = pytest.mark.slow

SIMDOCK = Path(sys.executable).parent / "simdock"
RUNS = 80
TICKS = 5
INTERVAL = 0.15
CUTS = (10.0, 60.0)


def proxied(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))


@contextmanager
def embedded(database: str, proxy: TcpProxy, tmp_path: Path) -> Iterator[simdock.Dock]:
    """The platform of this process executes the sweep; it reaches the store through the
    proxy."""
    with simdock.connect(proxied(database, proxy), artifacts_path=str(tmp_path / "blobs"),
                         handler_isolation="process", executor_workers=3) as dock:
        yield dock


def workers(broker: str) -> Callable[[str, TcpProxy, Path], ExitStack]:
    """Two ``simdock worker`` processes on ``broker`` execute the sweep (through the proxy);
    this process submits it, reaching the store directly."""

    def deploy(database: str, proxy: TcpProxy, tmp_path: Path) -> ExitStack:
        url = require_redis() if broker == "redis" else require_rabbitmq()
        settings = {f"{broker.upper()}_URL": url, "BROKER_QUEUE_PREFIX": queue_prefix(),
                    "ARTIFACTS_PATH": str(tmp_path / "blobs")}
        stack = ExitStack()
        for index in range(2):
            log = (tmp_path / f"worker-{index}.log").open("w")
            stack.callback(log.close)
            process = subprocess.Popen(
                [str(SIMDOCK), "worker", "--concurrency", "2"],
                env={**os.environ, **settings, "DATABASE_URL": proxied(database, proxy),
                     "LOG_LEVEL": "WARNING"},
                start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
            stack.callback(stop, process)
        dock = stack.enter_context(simdock.connect(
            database, **{key.lower(): value for key, value in settings.items()}))
        stack.callback(delete_queues, dock.platform.dispatcher.broker,
                       tuple(f"{settings['BROKER_QUEUE_PREFIX']}{q}"
                             for q in ("simulations", "reports")))
        stack.dock = dock  # type: ignore[attr-defined]
        return stack

    return deploy


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def statuses(uow_factory: Callable[[], UnitOfWork], job_id: str) -> list[RunStatus]:
    with uow_factory() as uow:
        return [run.status for run in uow.runs.for_job(job_id)]


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class WriteLock:
    """Another process's exclusive hold on a SQLite database: every writer waits, then
    fails (a cut, as far as writing goes)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def down(self) -> Iterator[None]:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        try:
            connection.execute("BEGIN EXCLUSIVE")
            yield
            connection.execute("ROLLBACK")
        finally:
            connection.close()


def test_runs_executing_through_two_sqlite_write_cuts_are_kept_whole_and_executed_once(
        tmp_path: Path) -> None:
    path = tmp_path / "simdock.db"
    with simdock.connect(f"sqlite:///{path}", artifacts_path=str(tmp_path / "blobs"),
                         handler_isolation="process", executor_workers=3) as dock:
        observe = dock.platform.store
        outcome = sweep_through_cuts(dock, WriteLock(path), observe)  # type: ignore[arg-type]
    check(*outcome)


@pytest.mark.parametrize("deployment", ["embedded", "redis", "rabbitmq"])
def test_runs_executing_through_two_database_cuts_are_kept_whole_and_executed_once(
        deployment: str, tmp_path: Path) -> None:
    database = migrated_postgres(f"outages_{deployment}")
    direct = make_engine(database)
    observe = lambda: SqlUnitOfWork(direct)  # noqa: E731  (the store seen from outside)
    with TcpProxy(("127.0.0.1", int(urlsplit(database).port or 5432))) as proxy, \
            ExitStack() as stack:
        if deployment == "embedded":
            dock = stack.enter_context(embedded(database, proxy, tmp_path))
        else:
            dock = stack.enter_context(workers(deployment)(database, proxy, tmp_path)).dock
        outcome = sweep_through_cuts(dock, proxy, observe)
    direct.dispose()
    check(*outcome)


Points = dict[str, list[tuple[int, float]]]


def sweep_through_cuts(dock: simdock.Dock, cut: TcpProxy | WriteLock,
                       observe: Callable[[], UnitOfWork]
                       ) -> tuple[list[Run], dict[str, list[str]], Points]:
    """Submit the sweep, cut the database twice while it executes, wait for its end; its
    runs, their log lines and their metric points."""
    sweep = dock.sweep("ticks", [{"ticks": TICKS, "interval": INTERVAL + i / 1e6}
                                 for i in range(RUNS)])
    for number, cut_seconds in enumerate(CUTS, 1):
        wait_for(lambda n=8 * number: statuses(observe, sweep.id).count(  # type: ignore[misc]
            RunStatus.SUCCEEDED) >= n, 120, f"{8 * number} runs to succeed")
        with cut.down():
            time.sleep(cut_seconds)
    wait_for(lambda: all(status.terminal for status in statuses(observe, sweep.id)),
             240, "the sweep to end")
    with observe() as uow:
        runs = uow.runs.for_job(sweep.id)
        logs = {run.id: [line.message for line in uow.logs.list(run.id)] for run in runs}
        points = {run.id: [(p.step, p.value) for p in uow.metrics.list(run.id)]
                  for run in runs}
    return runs, logs, points


def check(runs: list[Run], logs: dict[str, list[str]], points: Points) -> None:
    """Every run succeeded at its first attempt, with each line and point once."""
    assert [run.error for run in runs if run.status is not RunStatus.SUCCEEDED] == []
    assert {run.attempts for run in runs} == {1}, "some run was executed twice"
    expected_logs = [f"tick {tick} of {TICKS}" for tick in range(1, TICKS + 1)]
    assert {run_id: lines for run_id, lines in logs.items() if lines != expected_logs} == {}
    expected_points = [(tick, float(tick + 1)) for tick in range(TICKS)]
    assert {run_id: p for run_id, p in points.items() if sorted(p) != expected_points} == {}
