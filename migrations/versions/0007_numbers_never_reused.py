"""Numbers are never handed out twice: SQLite tables count them with AUTOINCREMENT.

Without AUTOINCREMENT, SQLite gives a new row the highest number in its table
plus one, so deleting the newest job gave its number (an Epistemix job id) and
its runs' numbers to the next ones, and clients that cache results by id showed
the deleted job's. With it, SQLite remembers the highest number ever used
(``sqlite_sequence``) and never goes below it, after deletes and restarts alike.
PostgreSQL's sequences never go back already: nothing changes there.

SQLite cannot add AUTOINCREMENT to a table in place: each table with a
``number`` is rebuilt (created anew, filled, renamed; its indexes and triggers
made again as they were), with foreign keys off for the migration (see
``migrations/env.py``), so that dropping a parent deletes none of its children.
Numbers freed before this migration cannot be known: the count starts from the
highest number each table holds. Downgrading keeps AUTOINCREMENT: the earlier
schema works the same with it, and removing it would forget the counts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import re

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Every table whose rows are numbered.
NUMBERED = ("users", "login_failures", "api_tokens", "machines", "jobs", "runs",
            "run_status_counts", "reports", "metric_points")

_NUMBER_COLUMN = re.compile(r"\bnumber INTEGER NOT NULL,", re.IGNORECASE)
_PRIMARY_KEY = re.compile(r",\s*CONSTRAINT \w+ PRIMARY KEY \(number\)", re.IGNORECASE)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in NUMBERED:
        _count_numbers_for_good(table)


def downgrade() -> None:
    """Nothing to undo (see the module's docstring)."""


def _count_numbers_for_good(table: str) -> None:
    """Rebuild ``table`` with ``number INTEGER PRIMARY KEY AUTOINCREMENT``, rows, indexes
    and triggers kept."""
    bind = op.get_bind()
    create = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    if create is None or "AUTOINCREMENT" in create.upper():
        return
    rebuilt = _PRIMARY_KEY.sub("", _NUMBER_COLUMN.sub(
        "number INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,", create, count=1), count=1)
    if rebuilt.count("AUTOINCREMENT") != 1 or "PRIMARY KEY (number)" in rebuilt:
        raise RuntimeError(f"cannot read the definition of table {table}: {create}")
    dependents = [sql for (sql,) in bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type, name", (table,))]
    columns = ", ".join(f'"{name}"' for (_, name, *_rest) in bind.exec_driver_sql(
        f'PRAGMA table_info("{table}")'))
    staging = f"_numbered_{table}"
    bind.exec_driver_sql(re.sub(rf'^CREATE TABLE "?{table}"?', f'CREATE TABLE "{staging}"',
                                rebuilt, count=1))
    bind.exec_driver_sql(f'INSERT INTO "{staging}" ({columns}) SELECT {columns} FROM "{table}"')
    bind.exec_driver_sql(f'DROP TABLE "{table}"')
    # Triggers of other tables may name this one: a rename that checked them would fail.
    bind.exec_driver_sql("PRAGMA legacy_alter_table = ON")
    bind.exec_driver_sql(f'ALTER TABLE "{staging}" RENAME TO "{table}"')
    bind.exec_driver_sql("PRAGMA legacy_alter_table = OFF")
    for sql in dependents:
        bind.exec_driver_sql(sql)
