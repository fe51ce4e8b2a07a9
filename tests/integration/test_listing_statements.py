"""A page of runs is read in a fixed number of statements, however many jobs it spans.

Seen: listing 50 runs of 50 single-run jobs read each job and each job's
specification on its own (about 100 statements, 25 ms on PostgreSQL): the
listing served 31-50 requests per second under load.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from simdock_adapters.http import create_app
from simdock_adapters.settings import Settings
from tests.integration.signing_in import signed_in


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Statements run in this thread, where the test client serves its requests: the
    app's workers, executing the jobs in threads of their own, are not counted."""
    seen: list[str] = []
    here = threading.get_ident()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() == here:
            seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)


def test_a_page_of_runs_from_many_jobs_takes_a_few_statements(
        tmp_path: Path, statements: list[str]) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/simdock.db",
                              artifacts_path=str(tmp_path), dispatch="database"))
    client = app.test_client()
    headers = signed_in(client)
    for i in range(40):
        assert client.post("/api/v1/jobs", headers=headers, json={
            "simulation_type": "noop", "params": {"i": i}}).status_code == 201

    # As in another server process, which has read none of these jobs' specifications.
    app.extensions["simdock"].platform.specs.clear()
    statements.clear()
    response = client.get("/api/v1/jobs?size=40", headers=headers)

    assert response.status_code == 200
    assert sorted(r["params"]["i"] for r in response.get_json()["items"]) == list(range(40))
    assert len(statements) <= 8, (len(statements), statements)
