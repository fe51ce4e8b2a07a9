"""Contract suites: one per port, parametrised over the adapters in ``adapters.py``."""

from __future__ import annotations

import pytest

from tests.contract.adapters import KNOWN_BUG_MARKER


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{KNOWN_BUG_MARKER}(*adapter_ids, reason): a bug in these adapters; the suite's "
        "fixture makes the test a strict xfail for them (see tests/contract/adapters.py)",
    )
