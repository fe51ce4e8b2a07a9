"""Scratch PostgreSQL databases for benchmarks (127.0.0.1:5432 unless BENCH_PG_URL says)."""

from __future__ import annotations

import os
import uuid

from simdock_adapters.sql import make_engine, migrate

ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def scratch_database(prefix: str) -> str:
    """A new, migrated database; returns its URL. Drop it with :func:`drop`."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(ADMIN_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = make_engine(ADMIN_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def settle(url: str) -> None:
    """Leave no work of an earlier load to the next one: vacuum and analyze the database
    (what autovacuum would start in the middle of the next measurement after thousands of
    inserts) and write its dirty pages out."""
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
        connection.exec_driver_sql("CHECKPOINT")
    engine.dispose()
