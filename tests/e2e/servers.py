"""A real ``simdock serve`` process for end-to-end tests, on a free local port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

SIMDOCK = Path(sys.executable).parent / "simdock"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(directory: Path, **environment: str) -> Iterator[str]:
    """Start ``simdock serve`` with its data in ``directory``; yields its base URL.

    ``environment`` adds settings (``DATABASE_URL``, ``SECRET_KEY``...); by
    default the server uses a SQLite file and blob directory in ``directory``.
    """
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{directory / 'simdock.db'}",
           "ARTIFACTS_PATH": str(directory / "artifacts"), "HOST": "127.0.0.1",
           "PORT": str(port), "WEB_WORKERS": "1", "WEB_THREADS": "16", "LOG_LEVEL": "WARNING",
           **environment}
    log = (directory / "server.log").open("w")
    process = subprocess.Popen([str(SIMDOCK), "serve"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = (directory / "server.log").read_text()
                raise RuntimeError(f"simdock serve exited: {output}")
            try:
                if requests.get(f"{base_url}/live", timeout=1).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or its workers are still starting
            if time.monotonic() > deadline:
                raise RuntimeError("simdock serve did not start within 60 s")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
