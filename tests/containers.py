"""The Docker engine and the images container tests use.

The engine is the one DOCKER_HOST (or /var/run/docker.sock) reaches; ``.ci/run``
starts one with ``dockerd --bridge=none --iptables=false`` and builds ``sim:local``
offline. Tests skip without them, and fail instead under SIMDOCK_REQUIRE_SERVICES=1.
The probe image (``tests/images/probe``) is built on ``sim:local`` here, once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import services_required

PROBE_IMAGE = "simdock-probe:test"
_built: set[str] = set()


def _missing(reason: str) -> None:
    if services_required():
        pytest.fail(reason)
    pytest.skip(reason)


def engine() -> Any:
    """A client of a Docker engine that has ``sim:local``."""
    import docker
    import docker.errors

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:
        _missing(f"no Docker engine answers ({exc}); .ci/run starts one")
    try:
        client.images.get("sim:local")
    except docker.errors.ImageNotFound:
        _missing("the image sim:local is missing: make sim-image")
    return client


def probe_image() -> str:
    """The probe image, built on sim:local on first use."""
    return built_image("probe")


def built_image(name: str) -> str:
    """The test image ``tests/images/<name>`` (built on sim:local), built on first use."""
    tag = PROBE_IMAGE if name == "probe" else f"simdock-{name}:test"
    if tag not in _built:
        engine().images.build(path=str(Path(__file__).parent / "images" / name), tag=tag,
                              rm=True, network_mode="none")
        _built.add(tag)
    return tag


def containers_of(run_id: str) -> list[Any]:
    """Every container (running or not) of a run."""
    return list(engine().containers.list(all=True, filters={"label": f"io.simdock.run={run_id}"}))
