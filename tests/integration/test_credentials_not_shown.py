"""Database URLs are shown without their passwords: in a Dock's repr, settings, errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import simdock
from simdock_adapters.settings import Settings
from simdock_adapters.urls import masked_url
from tests.databases import PG_USER, migrated_postgres

PASSWORD = "pw-never-shown"
SIMDOCK = Path(sys.executable).parent / "simdock"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://app:s3cret@db.internal:5432/simdock",
     "postgresql://app:***@db.internal:5432/simdock"),
    ("postgresql://app@db.internal:5432/simdock", "postgresql://app@db.internal:5432/simdock"),
    ("postgresql://app@db/simdock?sslmode=require&password=s3cret",
     "postgresql://app@db/simdock?sslmode=require&password=***"),
    ("postgresql://app:s3c@ret@db/simdock", "postgresql://app:***@db/simdock"),
    ("postgresql://app:s3c/ret@db/simdock", "postgresql://app:***@db/simdock"),
    ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("app:s3cret@db/simdock", "app:***@db/simdock"),
    ("memory://", "memory://"),
    ("sqlite:///./simdock.db", "sqlite:///./simdock.db"),
    ("sqlite:////data/a:b@c.db", "sqlite:////data/a:b@c.db"),
    ("not a url at all", "not a url at all"),
    ("", ""),
])
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_a_docks_repr_and_the_settings_repr_hide_the_password(tmp_path: Path) -> None:
    url = migrated_postgres("credentials").replace(f"{PG_USER}@", f"{PG_USER}:{PASSWORD}@")
    with simdock.connect(url, artifacts_path=str(tmp_path)) as dock:
        shown = repr(dock)
    assert f"{PG_USER}:***@" in shown and PASSWORD not in shown

    settings = Settings(database_url=url, secret_key="signing-key-never-shown-0123456789")
    assert PASSWORD not in repr(settings) and "signing-key-never-shown" not in repr(settings)
    assert f"{PG_USER}:***@" in repr(settings)


def test_an_unusable_database_url_is_refused_without_its_password(tmp_path: Path) -> None:
    for url in (f"postgresql://app:{PASSWORD}@db:port/simdock", f"nonsense:{PASSWORD}@db"):
        out = subprocess.run([str(SIMDOCK), "types"], capture_output=True, text=True,
                             env={**os.environ, "DATABASE_URL": url}, cwd=tmp_path,
                             timeout=60)
        assert out.returncode == 2 and "invalid DATABASE_URL" in out.stderr, out.stderr
        assert PASSWORD not in out.stderr and "Traceback" not in out.stderr
