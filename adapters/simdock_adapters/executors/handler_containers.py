"""Executes registered handlers in containers: the process executor's children, isolated.

``HANDLER_ISOLATION=container``: each child of the pool is a container of
``HANDLER_IMAGE`` on the Docker engine, with the isolation every container run
gets (no network, limits, a read-only root, no capabilities, a non-root user).
It talks to this process over two Unix sockets in a directory shared with it
(a container without a network can still reach a socket mounted into it), with
the same messages as a child process (:mod:`simdock_adapters.executors.child`):
a handler's reports, cancels, and its result. Killing the container stops the
handler and whatever it started. Its environment is the allow-list's
(:mod:`~simdock_adapters.executors.environment`), its ``HOME`` and ``TMPDIR`` in
that shared directory, emptied after each run.

The image needs Python 3.11 and the handlers' modules with simdock. Either it
has them installed, or ``HANDLER_MOUNTS=auto`` mounts this installation's own
(its site-packages and the directories of simdock's and the handlers' packages)
read-only at the same paths, for an image with a matching Python, such as
``sim:local`` for a worker on Debian's or a compatible Python 3.11.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from simdock.domain.resources import Resources
from simdock.errors import ExecutorUnavailable
from simdock.handlers import SimulationHandler, SimulationHandlerRegistry
from simdock.ports import Executor, RunContext
from simdock_adapters.executors import child
from simdock_adapters.executors.containers import DockerExecutor
from simdock_adapters.executors.environment import fresh_directories, user_environment
from simdock_adapters.executors.memory_limit import out_of_memory
from simdock_adapters.executors.processes import Child, ProcessExecutor

#: How long a new container has to connect back, seconds.
CONNECT_SECONDS = 60.0
BOOT = ("import os, site\n"
        "for d in filter(None, os.environ.get('SIMDOCK_SITE_DIRS', '').split(os.pathsep)):\n"
        "    site.addsitedir(d)\n"
        "from simdock_adapters.executors.child import main_in_container\n"
        "main_in_container()\n")


def installation_mounts(handlers: Iterable[SimulationHandler] = ()) -> tuple[list[str],
                                                                             list[str]]:
    """This installation's directories a container needs to import simdock and
    ``handlers`` (mounted at the same paths), and which of them are site directories."""
    stdlib = {Path(sysconfig.get_paths()[k]).resolve() for k in ("stdlib", "platstdlib")}
    sites = [str(Path(p).resolve()) for p in sys.path
             if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]
    roots = set(sites)
    modules = {"simdock", "simdock_adapters", *(type(h).__module__ for h in handlers)}
    for name in modules:
        spec = importlib.util.find_spec(name.split(".")[0])
        if spec is not None and spec.origin not in (None, "built-in", "frozen"):
            package = Path(spec.origin).parent
            roots.add(str(package.parent.resolve()))
    for entry in sys.path:
        path = Path(entry or os.getcwd()).resolve()
        if path.is_dir() and path not in stdlib and not any(
                path == s or s in path.parents for s in stdlib):
            roots.add(str(path))
    kept = sorted(r for r in roots if not any(o != r and Path(o) in Path(r).parents
                                              for o in roots))
    return kept, sites


class ContainerChild:
    """One container executing runs for this process, and the sockets it talks over."""

    def __init__(self, engine: DockerExecutor, image: str, mounts: Sequence[str],
                 site_dirs: Sequence[str], preload: Sequence[str]) -> None:
        self.engine = engine
        self.scratch = Path(tempfile.mkdtemp(prefix="simdock-child-"))
        self.scratch.chmod(0o777)  # the container's user creates its runs' files here
        self.clear()
        self.container: Any = None
        listeners = [self._listen(name) for name in ("channel", "lifeline")]
        try:
            volumes = {m: {"bind": m, "mode": "ro"} for m in mounts}
            volumes[str(self.scratch)] = {"bind": str(self.scratch), "mode": "rw"}
            policy = engine.policy
            limits = Resources(memory_mb=policy.memory_mb, cpus=policy.cpus, pids=policy.pids)
            self.container = engine.client().containers.run(
                image, entrypoint=["python3", "-c", BOOT], volumes=volumes,
                working_dir=str(self.scratch),
                environment=user_environment(
                    self.scratch / "home", self.scratch / "tmp",
                    {child.SOCKETS: ",".join(str(self.scratch / f"{n}.sock")
                                             for n in ("channel", "lifeline")),
                     "SIMDOCK_SITE_DIRS": os.pathsep.join(site_dirs),
                     "PYTHONDONTWRITEBYTECODE": "1"}, on_host=False),
                **engine.isolation(limits, "handler-child"))
            channel, lifeline = listeners
            lifeline_end = self._accept(lifeline)
            self._lifeline = lifeline_end
            self.connection = Connection(self._accept(channel).detach())
        except BaseException:
            for listener in listeners:
                listener.close()
            self.kill()
            raise
        for listener in listeners:
            listener.close()
        self.connection.send(("setup", sys.path, list(preload), None))

    def _listen(self, name: str) -> socket.socket:
        listener = socket.socket(socket.AF_UNIX)
        path = self.scratch / f"{name}.sock"
        listener.bind(str(path))
        path.chmod(0o777)
        listener.listen(1)
        listener.settimeout(CONNECT_SECONDS)
        return listener

    def _accept(self, listener: socket.socket) -> socket.socket:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            logs = ""
            with contextlib.suppress(Exception):
                logs = self.container.logs(tail=5).decode(errors="replace")
            raise ExecutorUnavailable(
                "the handler container did not start; is its image's Python able to import "
                f"simdock and the handlers? {logs}") from None
        connection.settimeout(None)
        return connection

    def alive(self) -> bool:
        try:
            self.container.reload()
        except Exception:
            return False
        return bool(self.container.status == "running")

    def kill(self) -> None:
        if self.container is not None:
            with contextlib.suppress(Exception):
                self.container.remove(force=True)
        self.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def clear(self) -> None:
        fresh_directories(self.scratch / "home", self.scratch / "tmp", mode=0o777)

    def close(self) -> None:
        for end in (getattr(self, "connection", None), getattr(self, "_lifeline", None)):
            if end is not None:
                with contextlib.suppress(OSError):
                    end.close()

    @property
    def exit_description(self) -> str:
        try:
            self.container.wait(timeout=5)  # the socket closes a moment before it ends
            self.container.reload()
            state = self.container.attrs.get("State", {})
        except Exception:
            return "its container is gone"
        if state.get("OOMKilled"):
            return out_of_memory(self.engine.policy.memory_mb)
        if state.get("Running"):
            return "its container still runs"
        return f"exit code {state.get('ExitCode')}"


class ContainerHandlerExecutor(ProcessExecutor):
    """Runs each run's registered handler in a pooled container of ``image``."""

    def __init__(self, registry: SimulationHandlerRegistry, engine: DockerExecutor, image: str,
                 mounts: Sequence[str] = (), site_dirs: Sequence[str] = (),
                 max_run_memory: int | None = None, grace_seconds: float = 0.5,
                 fallback: Executor | None = None, preload: Sequence[str] = ()) -> None:
        super().__init__(registry, max_run_memory, grace_seconds, fallback, preload)
        self.engine = engine
        self.image = image
        self.mounts = list(mounts)
        self.site_dirs = list(site_dirs)

    def _spawn(self) -> Child:
        return ContainerChild(self.engine, self.image, self.mounts, self.site_dirs,
                              self._preload)

    def _directory(self, kind: str, worker: Child, context: RunContext) -> str:
        """A directory in the scratch space the container shares: the run's own, or a copy
        of its job's input files."""
        assert isinstance(worker, ContainerChild)
        directory = worker.scratch / f"{'work' if kind == 'workdir' else kind}-{context.run_id}"
        directory.mkdir(exist_ok=True)
        if kind == "inputs":
            shutil.copytree(context.inputs, directory, dirs_exist_ok=True)
            for path in directory.rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)
        directory.chmod(0o777 if kind == "workdir" else 0o755)
        return str(directory)

    def _handed_back(self, worker: Child, context: RunContext) -> None:
        assert isinstance(worker, ContainerChild)
        shutil.rmtree(worker.scratch / f"inputs-{context.run_id}", ignore_errors=True)
        directory = worker.scratch / f"work-{context.run_id}"
        if not directory.exists():
            return
        try:
            for path in directory.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    target = context.workdir / path.relative_to(directory)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
