"""What every SQL repository shares: its connection, guarded inserts and updates, look-ups by id."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from simdock.domain import RunStatus
from simdock.errors import ConcurrencyConflict, Conflict, NotFound
from simdock_adapters.sql.tables import runs

T = TypeVar("T")
#: How many values one ``IN (...)`` list holds (SQLite allows 32,766 bound variables).
CHUNK = 1_000


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in slices of at most ``size``, for statements that list them."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def among(column: sa.ColumnElement[Any], values: Sequence[str], dialect: str
          ) -> Iterator[sa.ColumnElement[bool]]:
    """``column`` among ``values``, as the conditions of the statements to run: one, with
    the values as one array, on PostgreSQL; an ``IN`` list per :data:`CHUNK` on SQLite."""
    if dialect == "postgresql":
        yield column == sa.any_(sa.literal(list(values), type_=postgresql.ARRAY(sa.Text())))
        return
    for chunk in chunks(values):
        yield column.in_(chunk)


class SqlRepository:
    """A repository over the unit of work's connection."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    def _insert_new(self, table: sa.Table, row: dict[str, Any], kind: str,
                    statement: sa.Executable | None = None) -> int:
        """INSERT a row whose id must be new; returns its number, or raises Conflict.

        One statement: a row that would break a unique constraint is not inserted
        (ON CONFLICT DO NOTHING), so the transaction stays usable after a Conflict.
        ``statement`` replaces the plain INSERT by one that also writes more.
        """
        statement = insert_if_new(table, self.dialect) if statement is None else statement
        number = self.connection.execute(statement, row).scalar()
        if number is None:
            raise Conflict(f"{kind} '{row['id']}' already exists")
        return int(number)

    def _guarded_update(self, table: sa.Table, entity_id: str, version: int,
                        values: dict[str, Any], kind: str) -> None:
        """UPDATE only if the stored version is the one read; else NotFound or a conflict."""
        parameters = {f"new_{name}": value for name, value in values.items()}
        parameters.update(match_id=entity_id, match_version=version, new_version=version + 1)
        result = self.connection.execute(guarded_update_statement(table), parameters)
        if result.rowcount == 1:
            return
        exists = self.connection.execute(by_id(table), {"id": entity_id}).first()
        if exists is None:
            raise NotFound(kind, entity_id)
        raise ConcurrencyConflict(f"{kind} '{entity_id}' was changed by someone else")


@functools.cache
def insert_if_new(table: sa.Table, dialect: str) -> sa.Insert:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING number``, built once per table."""
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_nothing().returning(table.c.number)


@functools.cache
def guarded_update_statement(table: sa.Table) -> sa.Update:
    """``UPDATE table SET <every column> WHERE id = :match_id AND version = :match_version``.

    Built once per table, so the hot path of every state change only binds values.
    """
    columns = [c.name for c in table.c if c.name not in ("number", "id")]
    values: dict[str, Any] = {name: sa.bindparam(f"new_{name}") for name in columns}
    if table is runs:
        # A run that stays running keeps the lease stored (its worker's heartbeat renews
        # it without a new version); a claim sets it, leaving running clears it.
        staying = sa.and_(runs.c.status == RunStatus.RUNNING.value,
                          sa.bindparam("new_status") == RunStatus.RUNNING.value)
        values["lease_expires_at"] = sa.case(
            (staying, runs.c.lease_expires_at), else_=sa.bindparam("new_lease_expires_at"))
    return (table.update()
            .where(table.c.id == sa.bindparam("match_id"),
                   table.c.version == sa.bindparam("match_version"))
            .values(values))


@functools.cache
def by_id(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table).where(table.c.id == sa.bindparam("id"))
