"""A sweep's parameters are stored once, over HTTP: storage and answers grow with the request.

The server leaves runs queued (``DISPATCH=database``, no worker), so what its
blob directory and database hold is what submitting wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import SECRET_KEY, User, assert_envelope, register_and_login
from tests.e2e.servers import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    directory = tmp_path_factory.mktemp("sweep-storage")
    with running_server(directory, SECRET_KEY=SECRET_KEY, DISPATCH="database") as url:
        yield url, directory


@pytest.fixture(scope="module")
def alice(server: tuple[str, Path]) -> User:
    return register_and_login(server[0], "alice")


def stored_bytes(directory: Path) -> int:
    """Bytes in the blob directory and the SQLite files."""
    files = [p for p in (directory / "artifacts").rglob("*") if p.is_file()]
    files += list(directory.glob("simdock.db*"))
    return sum(p.stat().st_size for p in files)


def test_a_large_base_over_a_thousand_variants_is_stored_and_answered_once(
        server: tuple[str, Path], alice: User) -> None:
    body = json.dumps({"simulation_type": "noop", "params": {"blob": "x" * 120_000},
                       "grid": {"i": list(range(1000))}})
    before = stored_bytes(server[1])
    created = alice.post("/api/v1/jobs", data=body, headers={"Content-Type": "application/json"})
    assert created.status_code == 201, created.text[:300]
    assert len(created.content) < len(body)
    answer = created.json()
    assert len(answer["jobs"]) == 1000
    assert answer["sweep_mapping"][answer["jobs"][7]] == {"i": 7}
    # The base is written once (it was once per run: 127 MB); each run costs the database
    # (its row, index entries and write-ahead log) well under a kilobyte.
    assert stored_bytes(server[1]) - before < len(body) + 1000 * 1000
    run = alice.get(f"/api/v1/jobs/{answer['jobs'][7]}").json()
    assert run["params"] == {"blob": "x" * 120_000, "i": 7}


def test_an_explicit_list_is_mapped_to_its_items_as_given(alice: User) -> None:
    items = [{"diffusivity": 0.01, "length": 1.0}, {"length": 0.5}]
    created = alice.post("/api/v1/jobs", json={"simulation_type": "noop", "params": {"a": 1},
                                               "sweep": items})
    assert created.status_code == 201, created.text
    answer = created.json()
    assert [answer["sweep_mapping"][run_id] for run_id in answer["jobs"]] == items
    params = [alice.get(f"/api/v1/jobs/{run_id}").json()["params"] for run_id in answer["jobs"]]
    assert params == [{"a": 1, **item} for item in items]


def test_a_refused_sweep_writes_nothing(server: tuple[str, Path], alice: User) -> None:
    sweep = [{"i": i, "pad": "y" * 110_000} for i in range(50)]  # each over the blob threshold
    before = stored_bytes(server[1])
    refused = alice.post("/api/v1/jobs", json={"simulation_type": "noop", "params": {"x": 1},
                                               "sweep": sweep,
                                               "machine_id": "mach-doesnotexist"})
    assert_envelope(refused, 404, "ResourceNotFound")
    assert stored_bytes(server[1]) == before
