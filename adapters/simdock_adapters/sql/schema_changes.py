"""What a migration needs from SQLite to rebuild a table without losing other tables' rows.

SQLite changes most of a table's definition only by rebuilding it: a new table
is filled, the old one dropped and the new one renamed. With foreign keys on,
dropping a table first deletes its rows, and with them (``ON DELETE CASCADE``)
every row of other tables that refers to them: rebuilding ``runs`` would empty
``run_logs``, ``metric_points`` and ``artifacts``. So migrations run with
foreign keys off (SQLite only lets that change outside a transaction) and are
checked before they commit, as SQLite's own procedure for schema changes says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection


@contextmanager
def foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Foreign keys off on ``connection`` (SQLite; nothing elsewhere) while the block runs;
    it must open and commit its transaction inside."""
    if connection.dialect.name != "sqlite":
        yield
        return
    if connection.in_transaction():
        raise RuntimeError("foreign keys can only be turned off outside a transaction")
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        driver.execute("PRAGMA foreign_keys = ON")


def check_foreign_keys(connection: Connection) -> None:
    """Refuse (before commit) a change that left rows referring to rows that do not exist."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows that refer to missing rows: {broken[:10]}")
