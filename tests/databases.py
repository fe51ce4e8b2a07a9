"""Real databases for tests: migrated SQLite files and scratch PostgreSQL databases.

Schemas are always built by the Alembic migrations, never by ``create_all``.
A migrated template is made once per session and reused: SQLite by copying
the file, PostgreSQL by truncating every table of one scratch database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from simdock_adapters.sql import make_engine, migrate
from simdock_adapters.sql.tables import metadata
from tests.conftest import require_service

PG_HOST = os.environ.get("SIMDOCK_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SIMDOCK_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("SIMDOCK_TEST_PG_USER", "postgres")

_scratch: list[str] = []
_templates: dict[str, str] = {}


def postgres_url(database: str) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def require_postgres() -> None:
    require_service("PostgreSQL", PG_HOST, PG_PORT)


def create_postgres_database(prefix: str) -> str:
    """A new empty database (dropped at the end of the session); returns its URL."""
    require_postgres()
    name = f"{prefix}_{os.getpid()}_{len(_scratch)}"
    admin = make_engine(postgres_url("postgres"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    _scratch.append(name)
    return postgres_url(name)


def drop_scratch_database(url: str) -> None:
    """Drop one scratch database now, even with connections open to it."""
    name = url.rsplit("/", 1)[1]
    admin = make_engine(postgres_url("postgres"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
    if name in _scratch:
        _scratch.remove(name)


def drop_scratch_databases() -> None:
    if not _scratch:
        return
    admin = make_engine(postgres_url("postgres"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        while _scratch:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{_scratch.pop()}" WITH (FORCE)')
    admin.dispose()


def migrated_postgres(purpose: str) -> str:
    """The URL of a migrated scratch database for ``purpose``, emptied for each caller."""
    if purpose not in _templates:
        url = create_postgres_database(f"simdock_{purpose}")
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        _templates[purpose] = url
    url = _templates[purpose]
    engine = make_engine(url)
    truncate_all(engine)
    engine.dispose()
    return url


def truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def migrated_sqlite(path: Path) -> str:
    """A migrated SQLite file at ``path`` (copied from a session template); returns its URL."""
    if "sqlite" not in _templates:
        template = Path(tempfile.mkdtemp(prefix="simdock-sqlite-")) / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        migrate.upgrade(engine)
        engine.dispose()  # the last connection to close folds the WAL into the file
        _templates["sqlite"] = str(template)
    shutil.copyfile(_templates["sqlite"], path)
    return f"sqlite:///{path}"


def count_rows(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one())
