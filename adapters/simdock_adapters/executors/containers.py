"""Executes container runs (seed 001's ``container_image``) on a Docker engine, isolated.

A run of image ``IMAGE`` (simulation type ``container:IMAGE``) is one container:

- its program gets the run's parameters three ways: as ``--name value`` flags after the
  image's entry point (scalars only; what seed 001's ``python run_sim.py --length 1.0
  --time_steps 100`` reads), as the JSON file ``/input/params.json``, and as JSON in
  the ``SIM_PARAMS`` environment variable;
- it writes its outputs to ``/output`` (``OUTPUT_DIR``): every file there becomes an
  artifact of the run; a ``result.json`` there is the run's result, otherwise the
  result lists the outputs and the exit status;
- what it prints to stdout and stderr becomes the run's log while it runs; a line
  ``progress 0.42`` on stdout reports progress instead;
- it runs with no network, limits on memory, CPUs and processes, a read-only root
  filesystem (``/tmp`` a small tmpfs, ``/dev/shm`` limited), every capability
  dropped, ``no-new-privileges``, an init process, and a non-root user;
- a cancel or the run's time limit kills it; the limit counts from the moment the
  attempt begins executing (inputs, creating and starting the container included);
- it is labelled with its deployment, run and attempt, and removed when the attempt
  ends; one whose attempt is over while its worker could not remove it (killed, cut
  off) is removed by any worker of the deployment on the same engine
  (:mod:`simdock_adapters.executors.container_reaper`).

The engine is only needed where runs execute: checking a submission (the image
allow-list, the parameters) needs none, and the client is made on first use.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simdock.domain.images import FLAG_NAME, image_of
from simdock.domain.resources import Resources
from simdock.domain.run_identity import Declared
from simdock.errors import (
    ExecutionError,
    ExecutorUnavailable,
    HandlerFailed,
    InvalidParameters,
    RunCancelled,
    RunTimedOut,
    ServiceUnavailable,
    ValidationError,
)
from simdock.ports import BlobStore, ExecutionTask, ParameterCheck, RunContext
from simdock_adapters.executors.container_logs import LogPump
from simdock_adapters.executors.environment import user_environment
from simdock_adapters.executors.memory_limit import out_of_memory

log = logging.getLogger(__name__)

#: How often a waiting run looks at its cancel flag and time limit.
POLL_SECONDS = 0.05
#: How many of a failed container's last log lines its run's error quotes.
LAST_LINES = 10
LABEL = "io.simdock"
#: The labels every container of a worker carries: whose deployment (``DEPLOYMENT_NAME``),
#: host and worker process it is, which run and attempt it executes ("handler-child" and
#: no attempt for a container of the handler pool).
DEPLOYMENT_LABEL, HOST_LABEL, WORKER_LABEL = (f"{LABEL}.deployment", f"{LABEL}.host",
                                              f"{LABEL}.worker")
RUN_LABEL, ATTEMPT_LABEL = f"{LABEL}.run", f"{LABEL}.attempt"
#: The label an image declares its seed parameter with (``--seed`` on its command line, and
#: in its parameters' JSON): its runs can then be replicated.
SEED_LABEL = f"{LABEL}.seed-parameter"


class ImageNotAllowed(ValidationError):
    """The image is not on this platform's allow-list (ALLOWED_IMAGES)."""


@dataclass(frozen=True)
class ContainerPolicy:
    """What every container run gets, and which images may run at all."""

    allowed_images: Sequence[str] = ("sim:local",)
    memory_mb: int = 256
    cpus: float = 1.0
    pids: int = 128
    tmpfs_mb: int = 64
    shm_mb: int = 64
    #: The user the program runs as; None: nobody (65534) when this process is root, else
    #: this process's own user, so that its outputs are this process's to read and remove.
    user: str | None = None

    def allows(self, image: str) -> bool:
        return any(fnmatch.fnmatchcase(image, pattern) for pattern in self.allowed_images)

    def run_as(self) -> str:
        if self.user:
            return self.user
        return "65534:65534" if os.getuid() == 0 else f"{os.getuid()}:{os.getgid()}"


def command_flags(parameters: Mapping[str, Any]) -> list[str]:
    """``--name value`` for each scalar parameter (lists and objects only in the JSON)."""
    flags: list[str] = []
    for name, value in parameters.items():
        if isinstance(value, bool):
            flags += [f"--{name}", "true" if value else "false"]
        elif isinstance(value, int | float | str):
            flags += [f"--{name}", str(value)]
    return flags


class DockerExecutor:
    """Runs ``container:IMAGE`` runs as containers on the engine ``client_factory`` reaches."""

    def __init__(self, policy: ContainerPolicy, worker_name: str,
                 client_factory: Callable[[], Any] | None = None, enabled: bool = True,
                 blobs: BlobStore | None = None, deployment: str = "default") -> None:
        """``enabled``: whether container runs execute here at all (they are checked at
        submission either way); ``blobs``: where a task's input files are;
        ``deployment``: the name this deployment's containers are labelled with, which
        keeps deployments sharing an engine apart."""
        self.policy = policy
        self.blobs = blobs
        self.enabled = enabled
        self.worker_name = worker_name
        self.deployment = deployment
        self.host = socket.gethostname()
        self._client_factory = client_factory or _engine_from_environment
        self._client: Any = None
        self._lock = threading.Lock()
        self._running: set[str] = set()  # ids of the containers executing runs here

    # -- Executor ----------------------------------------------------------
    def checker(self, simulation_type: str) -> ParameterCheck | None:
        image = _image(simulation_type)
        if not self.policy.allows(image):
            raise ImageNotAllowed(
                f"image '{image}' is not allowed here; allowed: "
                f"{', '.join(self.policy.allowed_images) or 'none'} (ALLOWED_IMAGES)")
        return _check_parameters

    def simulation_types(self) -> list[str]:
        return []

    def declared(self, simulation_type: str) -> Declared:
        """What an image declares, as this engine has it: its runs are named for reuse by
        its digest (the tag may move: the image's id), and it takes its seed in the
        parameter its ``io.simdock.seed-parameter`` label names (none: it is not
        replicated). Nothing when the engine does not answer or lacks the image."""
        image = _image(simulation_type)
        if not (self.enabled and self.policy.allows(image)):
            return Declared()
        try:
            found = self.client().images.get(image)
        except Exception as exc:  # no engine, no such image here: never reused
            log.info("image %s: nothing declared (%s)", image, exc)
            return Declared()
        seed = (found.labels or {}).get(SEED_LABEL) or None
        return Declared(seed_parameter=seed, version=str(found.id))

    def unseeded(self, simulation_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        seed = self.declared(simulation_type).seed_parameter
        return {k: v for k, v in parameters.items() if k != seed}

    def execute(self, task: ExecutionTask, context: RunContext) -> Any:
        started = time.monotonic()  # the attempt's time limit counts from here
        deadline = None if task.timeout_seconds is None else started + task.timeout_seconds
        image = _image(task.simulation_type)
        if not self.enabled:
            raise ExecutorUnavailable(
                f"running container image '{image}' needs a Docker engine, which this "
                "platform does not use (CONTAINER_ENGINE=none, or neither DOCKER_HOST nor "
                "/var/run/docker.sock)")
        if not self.policy.allows(image):
            raise ImageNotAllowed(f"image '{image}' is not allowed here (ALLOWED_IMAGES)")
        client = self.client()
        with tempfile.TemporaryDirectory(prefix=f"simdock-{task.run_id}-") as scratch:
            inputs, outputs = Path(scratch, "input"), Path(scratch, "output")
            inputs.mkdir()
            outputs.mkdir()
            outputs.chmod(0o777)  # the program's user writes here (bind-mounted alone)
            inputs.chmod(0o755)
            parameters = dict(task.parameters)
            for name, key in task.input_files.items():
                target = _inside(inputs, name)
                target.parent.mkdir(parents=True, exist_ok=True)
                self._fetch(key, target)
            (inputs / "params.json").write_text(json.dumps(parameters))
            for path in inputs.rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)
            container = self._create(client, image, task, parameters, inputs, outputs)
            with self._lock:
                self._running.add(container.id)
            try:
                code, pump = self._run(container, task, context, deadline)
                return self._outcome(container, code, pump, outputs, context,
                                     self.limits(task).memory_mb)
            finally:
                with contextlib.suppress(Exception):
                    container.remove(force=True)
                with self._lock:
                    self._running.discard(container.id)

    def running(self) -> set[str]:
        """Ids of the containers executing runs in this process now."""
        with self._lock:
            return set(self._running)

    def _fetch(self, key: str, target: Path) -> None:
        if self.blobs is None:
            raise ExecutorUnavailable("this executor has no blob store to take input files from")
        with target.open("wb") as out:
            for chunk in self.blobs.open(key):
                out.write(chunk)

    # -- the engine --------------------------------------------------------
    def client(self) -> Any:
        """The engine's client, made on first use."""
        with self._lock:
            if self._client is None:
                try:
                    client = self._client_factory()
                    client.ping()
                except Exception as exc:
                    raise ExecutorUnavailable(
                        "running container images needs a reachable Docker engine "
                        f"(DOCKER_HOST, or /var/run/docker.sock): {exc}") from exc
                self._client = client
            return self._client

    def check(self) -> None:
        """Raise ServiceUnavailable unless the engine answers."""
        try:
            self.client().ping()
        except Exception as exc:
            raise ServiceUnavailable(f"the Docker engine cannot be reached: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._client.close()
                self._client = None

    # -- one run -----------------------------------------------------------
    def limits(self, task: ExecutionTask) -> Resources:
        """What the task's container may use: the task's resources, the policy's for the rest."""
        policy = Resources(memory_mb=self.policy.memory_mb, cpus=self.policy.cpus,
                           pids=self.policy.pids)
        return task.resources.over(policy) if task.resources is not None else policy

    def isolation(self, limits: Resources, run: str, attempt: int | None = None
                  ) -> dict[str, Any]:
        """The options every container of this worker gets: no network, ``limits``, a
        read-only root, a small /tmp, capabilities dropped, an init, a non-root user, and
        labels saying whose (``run``: the run it executes, or what it is for; ``attempt``:
        which attempt at that run)."""
        assert limits.memory_mb and limits.cpus and limits.pids
        policy = self.policy
        return dict(
            network_mode="none", mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m", nano_cpus=int(limits.cpus * 1e9),
            pids_limit=limits.pids, read_only=True,
            tmpfs={"/tmp": f"rw,size={policy.tmpfs_mb}m,mode=1777"},
            shm_size=f"{policy.shm_mb}m", cap_drop=["ALL"],
            security_opt=["no-new-privileges"], user=policy.run_as(), init=True,
            labels={DEPLOYMENT_LABEL: self.deployment, HOST_LABEL: self.host,
                    WORKER_LABEL: self.worker_name, RUN_LABEL: run,
                    **({} if attempt is None else {ATTEMPT_LABEL: str(attempt)})},
            detach=True)

    def _create(self, client: Any, image: str, task: ExecutionTask,
                parameters: Mapping[str, Any], inputs: Path, outputs: Path) -> Any:
        limits = self.limits(task)
        import docker.errors

        try:
            return client.containers.create(
                image, command=command_flags(parameters),
                environment=user_environment("/tmp", "/tmp", {
                    **task.environment, "SIM_PARAMS": json.dumps(parameters),
                    "OUTPUT_DIR": "/output", "SIMDOCK_PARAMS_FILE": "/input/params.json",
                    "SIMDOCK_RUN_ID": task.run_id}, on_host=False),
                volumes={str(inputs): {"bind": "/input", "mode": "ro"},
                         str(outputs): {"bind": "/output", "mode": "rw"}},
                **self.isolation(limits, task.run_id, task.attempt))
        except docker.errors.ImageNotFound as exc:
            raise ExecutionError(f"image '{image}' is not on this worker's Docker engine"
                                 ) from exc
        except docker.errors.APIError as exc:
            raise ExecutionError(f"the Docker engine refused the container: "
                                 f"{exc.explanation or exc}") from exc

    def _run(self, container: Any, task: ExecutionTask, context: RunContext,
             deadline: float | None) -> tuple[int, LogPump]:
        """Start the container and wait for its end, or stop it (at ``deadline``, on the
        monotonic clock, at the latest); its exit status."""
        pump = LogPump(container, context)
        ended = threading.Event()
        status: dict[str, Any] = {}

        def wait() -> None:
            try:
                status.update(container.wait())
            except Exception as exc:  # the engine went away: the run cannot be followed
                status["error"] = exc
            finally:
                ended.set()

        pump.start()  # attached first, so that no line is written before anyone listens
        if deadline is not None and time.monotonic() >= deadline:
            context.cancel()
            raise RunTimedOut(f"run exceeded its time limit of {task.timeout_seconds:g} s "
                              "before its container started")
        container.start()
        threading.Thread(target=wait, daemon=True, name=f"wait-{task.run_id}").start()
        stopping: ExecutionError | None = None
        while not ended.wait(POLL_SECONDS):
            if context.cancelled or pump.cancelled:
                stopping = RunCancelled(f"run '{task.run_id}' was cancelled")
            elif deadline is not None and time.monotonic() >= deadline:
                context.cancel()
                stopping = RunTimedOut(
                    f"run exceeded its time limit of {task.timeout_seconds:g} s; its "
                    "container was killed")
            if stopping is not None:
                with contextlib.suppress(Exception):
                    container.kill()
                ended.wait(10)
                pump.join(5)
                raise stopping
        pump.join(30)
        if "error" in status:
            raise ExecutionError(f"lost the container while it ran: {status['error']}")
        return int(status.get("StatusCode", -1)), pump

    def _outcome(self, container: Any, code: int, pump: LogPump, outputs: Path,
                 context: RunContext, memory_mb: int | None) -> Any:
        container.reload()
        state = container.attrs.get("State", {})
        if state.get("OOMKilled"):
            raise ExecutionError(out_of_memory(memory_mb))
        if code != 0:
            tail = "\n".join(pump.last_lines(LAST_LINES))
            raise HandlerFailed(f"the container exited with status {code}"
                                + (f"; its last lines:\n{tail}" if tail else ""))
        names = []
        for path in sorted(p for p in outputs.rglob("*") if p.is_file() and not p.is_symlink()):
            name = path.relative_to(outputs).as_posix()
            context.artifact(name, path)
            names.append(name)
        result_file = outputs / "result.json"
        if result_file.is_file():
            try:
                return json.loads(result_file.read_text())
            except (ValueError, UnicodeDecodeError) as exc:
                raise HandlerFailed(f"the container's result.json is not JSON: {exc}") from exc
        return {"exit_code": code, "outputs": names}


def _inside(directory: Path, name: str) -> Path:
    """``directory / name``, refused if ``name`` would lead out of it."""
    target = (directory / name).resolve()
    if not name or directory.resolve() not in target.parents:
        raise ExecutionError(f"input file name {name!r} leads out of the input directory")
    return target


def _image(simulation_type: str) -> str:
    image = image_of(simulation_type)
    if image is None:
        raise ValidationError(f"'{simulation_type}' is not a container run")
    return image


def _check_parameters(parameters: Mapping[str, Any]) -> None:
    """A container's parameters must make command-line flags."""
    for name in parameters:
        if not FLAG_NAME.fullmatch(name):
            raise InvalidParameters(
                f"parameter name {name!r} cannot be a command-line flag: letters, digits, "
                "'_' and '-', starting with a letter or '_', at most 64 characters")


def _engine_from_environment() -> Any:
    import docker

    return docker.from_env(timeout=30)
