"""Container runs on a real Docker engine: seed 001's image, isolation, limits, stop, cleanup.

Each test executes one run through :class:`DockerExecutor` with a context that
keeps what it is told, and checks what the container could and could not do,
and that no container of the run is left on the engine afterwards.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simdock.errors import (
    ExecutionError,
    HandlerFailed,
    InvalidParameters,
    RunCancelled,
    RunTimedOut,
)
from simdock.ports import ExecutionTask
from simdock_adapters.executors.containers import ContainerPolicy, DockerExecutor, ImageNotAllowed
from simdock_adapters.executors.routing import container_type
from tests.containers import containers_of, engine, probe_image
from tests.contract.test_executor import RecordingContext

HEAT = {"length": 1.0, "time_steps": 100, "diffusivity": 0.01, "spatial_steps": 51}


@pytest.fixture
def executor() -> Iterator[DockerExecutor]:
    engine()
    executor = DockerExecutor(ContainerPolicy(allowed_images=("sim:local", "simdock-probe:*"),
                                              memory_mb=128, pids=64),
                              f"{socket.gethostname()}:tests")
    yield executor
    executor.close()


def task(image: str, parameters: dict[str, Any], timeout: float | None = 60.0,
         run_id: str = "run-c") -> ExecutionTask:
    return ExecutionTask(f"{run_id}-{time.monotonic_ns()}", "job-c", container_type(image),
                         parameters, 1, timeout)


def context(tmp_path: Path, run: ExecutionTask) -> RecordingContext:
    return RecordingContext(run.run_id, run.job_id, tmp_path)


def test_seed_001_s_image_runs_with_its_flags_and_its_outputs_are_the_artifacts(
        executor: DockerExecutor, tmp_path: Path) -> None:
    run = task("sim:local", HEAT)
    ctx = context(tmp_path, run)
    result = executor.execute(run, ctx)
    assert result["exit_code"] == 0
    assert {"result.csv", "meta.json", "simulation_results.png",
            "temperature_field.npy"} <= set(ctx.artifacts)
    meta = json.loads(ctx.artifacts["meta.json"])
    assert meta["parameters"]["time_steps"] == 100  # the flags reached run_sim.py
    assert ctx.progress_reports and ctx.progress_reports[-1] == 1.0  # "progress" lines
    assert any("result.csv" in message for _, message in ctx.logs)
    assert containers_of(run.run_id) == []


def test_a_container_cannot_reach_the_network(executor: DockerExecutor, tmp_path: Path
                                              ) -> None:
    host = socket.gethostbyname(socket.gethostname())
    for target in ("127.0.0.1:6379", f"{host}:6379", "10.255.255.1:80"):
        run = task(probe_image(), {"action": "connect", "target": target})
        ctx = context(tmp_path, run)
        executor.execute(run, ctx)
        report = json.loads(ctx.artifacts["probe.json"])
        assert report["connected"] is False, (target, report)


def test_a_container_past_its_memory_limit_fails_its_run_saying_so(
        executor: DockerExecutor, tmp_path: Path) -> None:
    run = task(probe_image(), {"action": "allocate", "megabytes": 400})
    with pytest.raises(ExecutionError, match=r"out of memory \(limit 128 MiB\)"):
        executor.execute(run, context(tmp_path, run))
    assert containers_of(run.run_id) == []


def test_a_fork_bomb_is_contained_by_the_process_limit(executor: DockerExecutor,
                                                       tmp_path: Path) -> None:
    run = task(probe_image(), {"action": "fork"}, timeout=60)
    ctx = context(tmp_path, run)
    with pytest.raises(HandlerFailed, match="exited with status 3"):
        executor.execute(run, ctx)
    report = json.loads(next(m for s, m in ctx.logs if m.startswith("{")))
    assert report["children"] < 64 and "error" in report
    assert containers_of(run.run_id) == []


def test_a_container_writes_only_to_its_output_tmp_and_shm(executor: DockerExecutor,
                                                           tmp_path: Path) -> None:
    run = task(probe_image(), {"action": "write"})
    ctx = context(tmp_path, run)
    executor.execute(run, ctx)
    report = json.loads(ctx.artifacts["probe.json"])
    assert report["written"] == {"/etc/probe": False, "/opt/probe": False, "/probe": False,
                                 "/input/probe": False, "/tmp/probe": True,
                                 "/dev/shm/probe": True, "/output/probe.txt": True}
    assert report["user"] != 0


def test_a_failing_container_fails_its_run_with_its_last_lines(executor: DockerExecutor,
                                                                tmp_path: Path) -> None:
    run = task(probe_image(), {"action": "fail"})
    ctx = context(tmp_path, run)
    with pytest.raises(HandlerFailed) as raised:
        executor.execute(run, ctx)
    assert "exited with status 4" in raised.value.message
    assert "something went wrong" in raised.value.message
    assert "line 19" in raised.value.message and "line 5" not in raised.value.message
    assert ("stderr", "something went wrong") in ctx.logs


def test_a_time_limit_kills_the_container_and_leaves_none(executor: DockerExecutor,
                                                          tmp_path: Path) -> None:
    run = task(probe_image(), {"action": "sleep", "seconds": 60}, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(RunTimedOut, match="time limit of 1 s"):
        executor.execute(run, context(tmp_path, run))
    assert time.monotonic() - started < 5
    assert containers_of(run.run_id) == []


def test_a_cancel_kills_the_container_within_two_seconds_and_leaves_none(
        executor: DockerExecutor, tmp_path: Path) -> None:
    run = task(probe_image(), {"action": "sleep", "seconds": 60}, timeout=None)
    ctx = context(tmp_path, run)
    cancelled: list[float] = []

    def cancel_once_running() -> None:
        while not any(m == "going to sleep" for _, m in ctx.logs):
            time.sleep(0.02)
        cancelled.append(time.monotonic())
        ctx.cancel()

    threading.Thread(target=cancel_once_running, daemon=True).start()
    with pytest.raises(RunCancelled):
        executor.execute(run, ctx)
    assert time.monotonic() - cancelled[0] < 2
    assert containers_of(run.run_id) == []


def test_an_image_off_the_allow_list_is_refused_before_anything_runs(
        executor: DockerExecutor) -> None:
    with pytest.raises(ImageNotAllowed, match="ALLOWED_IMAGES"):
        executor.checker(container_type("python:3.11"))


def test_parameters_that_cannot_be_flags_are_refused_at_the_check(
        executor: DockerExecutor) -> None:
    check = executor.checker(container_type("sim:local"))
    assert check is not None
    check({"length": 1.0, "time_steps": 100})
    with pytest.raises(InvalidParameters, match="command-line flag"):
        check({"--rm -rf": 1})


@pytest.mark.parametrize(("engine_setting", "docker_host", "expected"), [
    ("docker", None, "healthy"),
    ("docker", "tcp://127.0.0.1:1", "unhealthy"),
    ("none", None, None),
])
def test_health_reports_the_engine_where_container_runs_execute(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_setting: str,
        docker_host: str | None, expected: str | None) -> None:
    engine()
    if docker_host is not None:
        monkeypatch.setenv("DOCKER_HOST", docker_host)
    from simdock_adapters.http import create_app
    from simdock_adapters.settings import Settings

    app = create_app(Settings(database_url="memory://", artifacts_path=str(tmp_path),
                              container_engine=engine_setting))  # type: ignore[arg-type]
    try:
        health = app.test_client().get("/health")
    finally:
        app.extensions["simdock"].platform.close()
    assert health.get_json()["services"].get("container_engine") == expected
    assert health.status_code == (503 if expected == "unhealthy" else 200)


def test_a_worker_killed_mid_run_leaves_no_container_once_it_restarts(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    import simdock

    image = probe_image()
    settings = {"DATABASE_URL": f"sqlite:///{tmp_path / 'simdock.db'}",
                "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "ALLOWED_IMAGES": image,
                "CONTAINER_ENGINE": "docker", "LEASE_SECONDS": "3",
                "HEARTBEAT_SECONDS": "0.5", "LOG_LEVEL": "WARNING"}
    simdock_bin = str(Path(sys.executable).parent / "simdock")

    def worker(log: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([simdock_bin, "worker", "--concurrency", "1"],
                                env={**os.environ, **settings}, start_new_session=True,
                                stdout=(tmp_path / log).open("w"), stderr=subprocess.STDOUT)

    with simdock.connect(settings["DATABASE_URL"], artifacts_path=settings["ARTIFACTS_PATH"],
                         allowed_images=image, dispatch="database") as dock:
        job = dock.submit(f"container:{image}", {"action": "sleep", "seconds": 4})
        run_id = job.run.id
        first = worker("first.log")
        try:
            deadline = time.monotonic() + 60
            while not [c for c in containers_of(run_id) if c.status == "running"]:
                assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()
                time.sleep(0.1)
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        left = containers_of(run_id)
        assert len(left) == 1  # killing the worker does not stop its container
        second = worker("second.log")
        try:
            job.wait(timeout=90)
            deadline = time.monotonic() + 10
            while containers_of(run_id):
                assert time.monotonic() < deadline, [c.short_id for c in containers_of(run_id)]
                time.sleep(0.1)
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(30)
        assert job.status == "succeeded", (tmp_path / "second.log").read_text()
        assert job.run.attempts == 2
