"""The environment user code starts with: an allow-list, never the server's own.

A server's environment holds its credentials (``SECRET_KEY``, ``DATABASE_URL``,
``AWS_*``, broker URLs), and a process can read its whole initial environment
(``/proc/self/environ``). So every way simdock starts user code (a handler's child
process, the FRED program, a handler container, a container run) builds the
environment here: a few variables of the server that say where programs,
libraries and the locale are, ``HOME`` and ``TMPDIR`` in scratch space of the
run's own, and the run's own variables. Nothing else of the server's passes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

#: The server's variables passed on when it has them: where programs and libraries are
#: found, the locale and time zone, and how many threads numeric libraries start.
PASSED_ON = ("PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ",
             "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: Those that name places on this host, meaningless in a container (whose image says).
HOST_PATHS = frozenset({"PATH", "LD_LIBRARY_PATH", "PYTHONPATH"})


def user_environment(home: str | Path, tmp: str | Path,
                     variables: Mapping[str, str] | None = None, *, on_host: bool = True,
                     server: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment of user code: ``PASSED_ON`` variables of ``server`` (this
    process's environment by default; without the host's paths for a container,
    ``on_host`` false), ``HOME`` and ``TMPDIR``, then ``variables`` (the run's own)."""
    source = os.environ if server is None else server
    environment = {name: source[name] for name in PASSED_ON
                   if source.get(name) and (on_host or name not in HOST_PATHS)}
    if on_host:
        environment.setdefault("PATH", os.defpath)
    environment["HOME"] = str(home)
    environment["TMPDIR"] = str(tmp)
    environment.update(variables or {})
    return environment


def fresh_directories(*directories: Path, mode: int = 0o700) -> None:
    """Make each directory exist and be empty (what an earlier run left is removed). An
    empty one is only looked at, which costs far less than making it anew."""
    for directory in directories:
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            directory.mkdir(parents=True)
            directory.chmod(mode)
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
