"""Contract suites: one per port, parametrised over the adapters in ``adapters.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simdock.repositories import UnitOfWorkFactory
from tests.contract.adapters import KNOWN_BUG_MARKER, UNIT_OF_WORK_ADAPTERS, apply_known_bugs


@pytest.fixture(params=list(UNIT_OF_WORK_ADAPTERS))
def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    """A unit-of-work factory over a fresh, empty store of each repository adapter."""
    adapter_id: str = request.param
    apply_known_bugs(request, adapter_id)
    with UNIT_OF_WORK_ADAPTERS[adapter_id](tmp_path) as factory:
        yield factory


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{KNOWN_BUG_MARKER}(*adapter_ids, reason): a bug in these adapters; the suite's "
        "fixture makes the test a strict xfail for them (see tests/contract/adapters.py)",
    )
