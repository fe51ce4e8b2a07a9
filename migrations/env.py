"""Alembic environment: migrates the database named by DATABASE_URL.

The URL comes from the Alembic config's ``sqlalchemy.url`` when the caller
set one (the migration runner and the embedded platform do), else from the
DATABASE_URL environment variable, else the embedded default SQLite file.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from simdock_adapters.sql.engine import make_engine, normalise_url
from simdock_adapters.sql.schema_changes import check_foreign_keys, foreign_keys_off
from simdock_adapters.sql.tables import metadata
from simdock_adapters.sql.types import UtcDateTime

DEFAULT_URL = "sqlite:///./simdock.db"


def database_url() -> str:
    configured = context.config.get_main_option("sqlalchemy.url")
    return normalise_url(configured or os.environ.get("DATABASE_URL") or DEFAULT_URL)


def render_item(kind: str, item: object, autogen_context: object) -> str | bool:
    """Write simdock's column types as plain SQLAlchemy types in new migrations."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_offline() -> None:
    context.configure(url=database_url(), target_metadata=metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # handed over by simdock_adapters.sql.migrate
        _migrate(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection, foreign_keys_off(connection):
            _migrate(connection)
    finally:
        engine.dispose()


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=True, compare_type=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys(connection)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
