"""What an image declares, read from a real Docker engine: its digest, by which its runs
are reused (never its tag), and its seed parameter (label ``io.simdock.seed-parameter``),
with which its runs can be replicated."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from simdock.domain.run_identity import Declared
from simdock_adapters.executors.containers import ContainerPolicy, DockerExecutor
from simdock_adapters.executors.routing import container_type
from tests.containers import built_image, engine


@pytest.fixture
def executor() -> Iterator[DockerExecutor]:
    engine()
    executor = DockerExecutor(ContainerPolicy(allowed_images=("sim:local", "simdock-*:test")),
                              f"{socket.gethostname()}:tests")
    yield executor
    executor.close()


def test_an_image_is_named_by_its_digest_and_declares_its_seed_by_a_label(
        executor: DockerExecutor) -> None:
    seeded = built_image("seeded")
    declared = executor.declared(container_type(seeded))
    assert declared == Declared(seed_parameter="seed", version=engine().images.get(seeded).id)
    assert declared.version is not None and declared.version.startswith("sha256:")
    assert executor.unseeded(container_type(seeded), {"seed": 7, "length": 2}) == {"length": 2}

    plain = executor.declared(container_type("sim:local"))
    assert plain == Declared(version=engine().images.get("sim:local").id)
    assert plain.version != declared.version  # another image, another digest


def test_an_image_retagged_is_another_version_and_one_not_allowed_declares_nothing(
        executor: DockerExecutor) -> None:
    client = engine()
    client.images.get("sim:local").tag("simdock-moved", "test")
    try:
        first = executor.declared(container_type("simdock-moved:test")).version
        client.images.get(built_image("seeded")).tag("simdock-moved", "test")  # the tag moves
        assert executor.declared(container_type("simdock-moved:test")).version != first
    finally:
        client.images.remove("simdock-moved:test")
    assert executor.declared(container_type("elsewhere:latest")) == Declared()
    assert executor.declared(container_type("simdock-absent:test")) == Declared()
