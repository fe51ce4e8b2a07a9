"""Where a handler cannot reach a child process, and how the process executor says so.

A child process imports a handler's class by name; a class defined in the
submitting script or notebook (``__main__``) is not that child's. Seen: such a
handler, run from a script, failed every run with "Can't get attribute ... on
<module '__main__'>" although the parent could pickle it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from simdock.errors import ExecutionError, ExecutorUnavailable
from simdock.handlers import ProgressCallback, SimulationHandler, SimulationHandlerRegistry
from simdock.ports import ExecutionTask
from simdock_adapters.executors.inprocess import InProcessExecutor
from simdock_adapters.executors.processes import ProcessExecutor
from tests.contract.test_executor import RecordingContext


def answer(self: SimulationHandler, job_id: str, simulation_type: str,
           parameters: Mapping[str, Any], progress_callback: ProgressCallback | None = None
           ) -> Any:
    return {"answer": 42}


#: A handler class as a script run with ``python script.py`` defines it.
Scripted = type("Scripted", (SimulationHandler,), {"execute": answer, "__module__": "__main__"})


def task() -> ExecutionTask:
    return ExecutionTask("run-1", "job-1", "scripted", {}, 1, 10.0)


def test_a_handler_of_main_runs_in_the_fallback_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    registry = SimulationHandlerRegistry()
    registry.register("scripted", Scripted())
    executor = ProcessExecutor(registry, fallback=InProcessExecutor(registry))
    try:
        with caplog.at_level(logging.WARNING):
            result = executor.execute(task(), RecordingContext("run-1", "job-1", tmp_path))
    finally:
        executor.close()
    assert result == {"answer": 42}
    assert "cannot run in a child process" in caplog.text and "in a thread" in caplog.text


def test_without_a_fallback_it_is_refused_saying_why(tmp_path: Path) -> None:
    registry = SimulationHandlerRegistry()
    registry.register("scripted", Scripted())
    executor = ProcessExecutor(registry)
    try:
        with pytest.raises(ExecutorUnavailable, match="importable module"):
            executor.execute(task(), RecordingContext("run-1", "job-1", tmp_path))
    finally:
        executor.close()


# -- what user code sees of the server ---------------------------------------------------

#: Credentials a server holds in its environment; none may reach user code.
SERVER_SECRETS = {
    "SECRET_KEY": "server-secret-key-0123456789-abcdefghijkl",
    "DATABASE_URL": "postgresql://simdock:db-password@db.internal/simdock",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-access-key-example",
    "REDIS_URL": "redis://:redis-password@redis.internal:6379/0",
    "RABBITMQ_URL": "amqp://simdock:amqp-password@rabbit.internal:5672/",
    "SIMDOCK_SERVER_ONLY": "anything else the server has",
}
#: What a handler's child process may find in its environment.
CHILD_VARIABLES = {"PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ",
                   "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "HOME",
                   "TMPDIR", "SIMDOCK_CHILD_FDS"}


def environ_of(raw: bytes) -> dict[str, str]:
    entries = (entry.split("=", 1) for entry in raw.decode().split("\0") if "=" in entry)
    return {name: value for name, value in entries}


class EnvironmentHandler(SimulationHandler):
    """Reports the environment its process started with (/proc/self/environ), that of a
    program it starts, and whether HOME and TMPDIR are writable."""

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        import os
        import subprocess
        import tempfile

        started = subprocess.run(["sh", "-c", "cat /proc/$$/environ"], capture_output=True,
                                 check=True).stdout
        with tempfile.NamedTemporaryFile() as scratch:
            temporary = scratch.name
        home = Path(os.environ["HOME"])
        found = sorted(p.name for p in home.iterdir())
        (home / "left-by-a-run").write_text("x")
        return {"own": environ_of(Path("/proc/self/environ").read_bytes()),
                "started": environ_of(started), "temporary": temporary, "home_before": found}


@pytest.fixture
def server_secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SERVER_SECRETS.items():
        monkeypatch.setenv(name, value)
    return SERVER_SECRETS


@pytest.mark.parametrize("adapter", ["processes", "containers"])
def test_a_handler_sees_none_of_the_server_s_environment(
        adapter: str, server_secrets: dict[str, str], tmp_path: Path) -> None:
    from tests.contract.adapters import EXECUTOR_ADAPTERS

    registry = SimulationHandlerRegistry()
    registry.register("environment", EnvironmentHandler())
    workdir = tmp_path / "work"
    workdir.mkdir()
    with EXECUTOR_ADAPTERS[adapter](registry, tmp_path) as executor:
        seen = [executor.execute(ExecutionTask(f"run-{n}", "job-1", "environment", {}, 1, 60.0),
                                 RecordingContext(f"run-{n}", "job-1", workdir))
                for n in (1, 2)]
    for report in seen:
        for environment in (report["own"], report["started"]):
            leaked = {name for name, value in environment.items()
                      if name in server_secrets or value in server_secrets.values()}
            assert not leaked, f"user code sees the server's {sorted(leaked)}"
            assert environment["HOME"] != os.environ.get("HOME")
            assert Path(report["temporary"]).parent == Path(environment["TMPDIR"])
        if adapter == "processes":  # a container adds its image's own (PATH, HOSTNAME...)
            assert set(report["own"]) <= CHILD_VARIABLES, sorted(report["own"])
    # Each run starts with an empty HOME: nothing of the run before it is there.
    assert [report["home_before"] for report in seen] == [[], []]


# -- how much memory a run may take ---------------------------------------------------------

MIB = 1024 * 1024


class HoardingHandler(SimulationHandler):
    """Allocates ``megabytes`` MiB, touching every page, and holds them to the end."""

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        hoard = []
        for _ in range(int(parameters["megabytes"])):
            block = bytearray(MIB)
            block[::4096] = b"\x01" * (MIB // 4096)
            hoard.append(block)
        return len(hoard)


def sample_registry() -> SimulationHandlerRegistry:
    from simdock_sim.handlers import Heat1DHandler, MonteCarloHandler

    registry = SimulationHandlerRegistry()
    registry.register("hoard", HoardingHandler())
    registry.register("heat1d", Heat1DHandler())
    registry.register("monte_carlo", MonteCarloHandler())
    return registry


def test_a_handler_allocating_past_its_limit_fails_its_run_and_the_next_runs_go_on(
        tmp_path: Path) -> None:
    executor = ProcessExecutor(sample_registry(), max_run_memory=64 * MIB, grace_seconds=0.3)

    def run(simulation_type: str, parameters: dict[str, Any]) -> Any:
        return executor.execute(ExecutionTask("run-m", "job-m", simulation_type, parameters, 1,
                                              60.0), RecordingContext("run-m", "job-m", tmp_path))

    try:
        with pytest.raises(ExecutionError) as raised:
            run("hoard", {"megabytes": 400})
        assert raised.value.message == "out of memory (limit 64 MiB)"
        assert run("hoard", {"megabytes": 32}) == 32  # within the limit, in the same pool
        assert run("monte_carlo", {"iterations": 100_000, "seed": 1})["estimate"] > 3
    finally:
        executor.close()


def test_the_sample_simulations_run_within_the_default_limit(tmp_path: Path) -> None:
    """RLIMIT_AS would count what numpy's BLAS threads reserve; the limit is on data."""
    from simdock_adapters.settings import load_settings

    default = load_settings().max_run_memory_mb
    executor = ProcessExecutor(sample_registry(), max_run_memory=default * MIB)
    try:
        for simulation_type, parameters in (
                ("heat1d", {"time_steps": 2000, "spatial_steps": 201}),
                ("monte_carlo", {"iterations": 2_000_000, "seed": 3})):
            context = RecordingContext("run-s", "job-s", tmp_path)
            result = executor.execute(ExecutionTask("run-s", "job-s", simulation_type,
                                                    parameters, 1, 120.0), context)
            assert result, simulation_type
        # ...and a run of the allowance's size still fits beside the interpreter.
        assert executor.execute(ExecutionTask("run-h", "job-s", "hoard", {
            "megabytes": default - 64}, 1, 120.0), RecordingContext(
                "run-h", "job-s", tmp_path)) == default - 64
    finally:
        executor.close()


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_run_out_of_memory_fails_saying_so_and_the_worker_goes_on(store: str,
                                                                     tmp_path: Path) -> None:
    import simdock
    from tests.databases import migrated_postgres, migrated_sqlite

    url = (migrated_sqlite(tmp_path / "memory.db") if store == "sqlite"
           else migrated_postgres("memory_limit"))
    with simdock.connect(url, artifacts_path=str(tmp_path / "blobs"), handler_isolation="process",
                         max_run_memory_mb=64, executor_workers=1) as dock:
        dock.register_handler("hoard", HoardingHandler())
        greedy = dock.submit("hoard", {"megabytes": 400})
        greedy.wait(timeout=60)
        modest = dock.submit("heat1d", {"time_steps": 200})
        modest.wait(timeout=60)
        assert greedy.status == "failed" and greedy.run.error == "out of memory (limit 64 MiB)"
        assert modest.status == "succeeded", modest.run.error


def test_a_container_run_sees_none_of_the_server_s_environment(
        server_secrets: dict[str, str], tmp_path: Path) -> None:
    import json
    import socket

    from simdock_adapters.executors.containers import ContainerPolicy, DockerExecutor
    from simdock_adapters.executors.routing import container_type
    from tests.containers import probe_image

    image = probe_image()
    executor = DockerExecutor(ContainerPolicy(allowed_images=(image,)),
                              f"{socket.gethostname()}:environment")
    context = RecordingContext("run-e", "job-e", tmp_path)
    try:
        executor.execute(ExecutionTask("run-e", "job-e", container_type(image),
                                       {"action": "environment"}, 1, 60.0), context)
    finally:
        executor.close()
    environment = json.loads(context.artifacts["probe.json"])["environment"]
    leaked = {name for name, value in environment.items()
              if name in server_secrets or value in server_secrets.values()}
    assert not leaked, f"a container run sees the server's {sorted(leaked)}"
    assert environment["HOME"] == environment["TMPDIR"] == "/tmp"
    assert json.loads(environment["SIM_PARAMS"]) == {"action": "environment"}
