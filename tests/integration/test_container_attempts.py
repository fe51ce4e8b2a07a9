"""Containers are labelled with their deployment and attempt, and removed once it is over.

On a real Docker engine and a real store: containers made as a worker on
another host makes them (its labels), for runs in every state an attempt can
be left in. One look of a worker of the same deployment removes exactly those
whose attempt is over (taken back, cancelled, finished by another attempt),
and never a container of another deployment, of a run its store does not
know, or of an attempt still holding its run.

Seen before: ownership was judged by host name and process id, and only when a
worker on the same host next used the engine; a container of a run taken back
from a worker cut off from the store ran on, and a shared engine's other
deployments were judged by the same rule.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import simdock
from simdock.domain.resources import Resources
from simdock_adapters.executors.container_reaper import ContainerReaper
from simdock_adapters.executors.containers import ContainerPolicy, DockerExecutor
from tests.containers import engine, probe_image

ELSEWHERE = "elsewhere-host:4242"


@pytest.fixture
def dock(tmp_path: Path) -> Iterator[simdock.Dock]:
    with simdock.connect(f"sqlite:///{tmp_path / 'simdock.db'}",
                         artifacts_path=str(tmp_path / "artifacts"), dispatch="database",
                         container_engine="none") as dock:
        yield dock


@pytest.fixture
def deployment() -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    for label in (name, f"{name}-other"):
        for container in engine().containers.list(
                all=True, filters={"label": [f"io.simdock.deployment={label}"]}):
            container.remove(force=True)


def executor(deployment: str, worker: str, host: str | None = None) -> DockerExecutor:
    made = DockerExecutor(ContainerPolicy(allowed_images=(probe_image(),)), worker,
                          deployment=deployment)
    if host is not None:
        made.host = host
    return made


def container(made_by: DockerExecutor, run: str, attempt: int | None) -> Any:
    """A sleeping container labelled as ``made_by`` labels the attempt's."""
    return engine().containers.run(
        probe_image(), command=["--action", "sleep", "--seconds", "120"],
        **made_by.isolation(Resources(memory_mb=64, cpus=0.5, pids=32), run, attempt))


def claim(dock: simdock.Dock, run_id: str, worker: str) -> int:
    platform = dock.platform
    with platform.uow() as uow:
        run = uow.runs.claim(run_id, worker, platform.clock.now(),
                             platform.clock.now() + timedelta(seconds=60))
        assert run is not None
        uow.commit()
    return run.attempts


def change(dock: simdock.Dock, run_id: str, how: str) -> None:
    platform = dock.platform
    with platform.uow() as uow:
        run = uow.runs.get(run_id)
        assert run is not None
        now = platform.clock.now()
        if how == "requeue":
            run.requeue(now)
        elif how == "cancel":
            run.cancel(now)
        else:
            run.fail("finished by this attempt", now)
        uow.runs.update(run)
        uow.commit()


def test_one_look_removes_the_containers_of_attempts_that_are_over_and_nothing_else(
        dock: simdock.Dock, deployment: str) -> None:
    engine()
    elsewhere = executor(deployment, ELSEWHERE, host="elsewhere-host")
    runs = {name: dock.submit("noop", {"case": name}).run.id
            for name in ("held", "taken_back", "cancelled", "finished_by_another")}

    kept, removed = {}, {}
    attempt = claim(dock, runs["held"], ELSEWHERE)
    kept["held"] = container(elsewhere, runs["held"], attempt)
    kept["another deployment"] = container(executor(f"{deployment}-other", ELSEWHERE,
                                                    "elsewhere-host"), runs["cancelled"], 1)
    kept["unknown run"] = container(elsewhere, "run-unknown-to-this-store", 1)

    attempt = claim(dock, runs["taken_back"], ELSEWHERE)
    removed["taken back"] = container(elsewhere, runs["taken_back"], attempt)
    change(dock, runs["taken_back"], "requeue")

    attempt = claim(dock, runs["cancelled"], ELSEWHERE)
    removed["cancelled"] = container(elsewhere, runs["cancelled"], attempt)
    change(dock, runs["cancelled"], "cancel")

    first = claim(dock, runs["finished_by_another"], ELSEWHERE)
    removed["finished by another"] = container(elsewhere, runs["finished_by_another"], first)
    change(dock, runs["finished_by_another"], "requeue")
    second = claim(dock, runs["finished_by_another"], "third-host:7")
    kept["the attempt that holds it"] = container(
        executor(deployment, "third-host:7", "third-host"), runs["finished_by_another"],
        second)

    gone_pid = _a_pid_that_is_gone()
    here = socket.gethostname()
    removed["handler child of a process gone from this host"] = container(
        executor(deployment, f"{here}:{gone_pid}"), "handler-child", None)
    kept["handler child of a live process on this host"] = container(
        executor(deployment, f"{here}:{os.getpid()}"), "handler-child", None)

    looking = executor(deployment, f"{here}:reaper")
    reaper = ContainerReaper(looking, lambda attempts: dock.platform.leftovers.dead_attempts(
        attempts))
    assert reaper.sweep() == len(removed)

    left = {c.id for c in engine().containers.list(all=True)}
    assert {name for name, c in kept.items() if c.id not in left} == set()
    assert {name for name, c in removed.items() if c.id in left} == set()
    labels = kept["held"].labels
    assert {labels[f"io.simdock.{k}"] for k in ("deployment", "run", "attempt", "worker")} \
        == {deployment, runs["held"], "1", ELSEWHERE}

    change(dock, runs["finished_by_another"], "fail")  # its own attempt is over too
    assert reaper.sweep() == 1


def _a_pid_that_is_gone() -> int:
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_hung_worker_s_container_of_a_cancelled_run_is_removed_by_another_worker(
        tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    from tests.containers import containers_of

    image = probe_image()
    settings = {"DATABASE_URL": f"sqlite:///{tmp_path / 'simdock.db'}",
                "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "ALLOWED_IMAGES": image,
                "CONTAINER_ENGINE": "docker", "LEASE_SECONDS": "3",
                "HEARTBEAT_SECONDS": "0.5", "LOG_LEVEL": "WARNING"}
    simdock_bin = str(Path(sys.executable).parent / "simdock")
    workers = [subprocess.Popen([simdock_bin, "worker", "--concurrency", "1"],
                                env={**os.environ, **settings}, start_new_session=True,
                                stdout=(tmp_path / f"w{i}.log").open("w"),
                                stderr=subprocess.STDOUT) for i in range(2)]
    by_name = {f"{socket.gethostname()}:{w.pid}": w for w in workers}
    try:
        with simdock.connect(settings["DATABASE_URL"],
                             artifacts_path=settings["ARTIFACTS_PATH"], allowed_images=image,
                             dispatch="database", container_engine="none") as dock:
            job = dock.submit(f"container:{image}", {"action": "sleep", "seconds": 120})
            deadline = time.monotonic() + 60
            while not (running := [c for c in containers_of(job.run.id)
                                   if c.status == "running"]):
                assert time.monotonic() < deadline, (tmp_path / "w0.log").read_text()
                time.sleep(0.1)
            hung = by_name[running[0].labels["io.simdock.worker"]]
            os.killpg(hung.pid, signal.SIGSTOP)  # it can neither beat nor stop its container
            try:
                job.cancel()
                cancelled = time.monotonic()
                while containers_of(job.run.id):
                    assert time.monotonic() - cancelled < 10, "the container was not removed"
                    time.sleep(0.1)
                took = time.monotonic() - cancelled
            finally:
                os.killpg(hung.pid, signal.SIGCONT)
        print(f"removed by the other worker {took:.1f} s after the cancel")
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
