"""Inserting the runs of one submission in one set-based statement.

A sweep's runs differ only in their id and index: everything else (job,
owner, status, times...) is the same. Such a batch is inserted by one
``INSERT ... SELECT`` over the ids and indexes, sent as two arrays on
PostgreSQL (``unnest``) and as one JSON array on SQLite (``json_each``), with
the shared values bound once. The database then does the per-row work: for
100,000 runs that is seconds faster than sending 100,000 rows.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from simdock.domain import Run
from simdock_adapters.sql import mappers
from simdock_adapters.sql.tables import runs

#: The fields a batch's runs may differ in for the set-based insert (``number`` is assigned).
VARYING = ("id", "index", "number")
_shared = operator.attrgetter(*(f.name for f in dataclasses.fields(Run) if f.name not in VARYING))


def shared_row(batch: Sequence[Run]) -> dict[str, Any] | None:
    """The row every run of ``batch`` shares but for id and index, or None if they differ more."""
    first = _shared(batch[0])
    if any(_shared(run) != first for run in batch[1:]):
        return None
    row = mappers.run_row(batch[0])
    del row["id"], row["run_index"]
    return row


def insert_runs(connection: sa.Connection, batch: Sequence[Run], shared: dict[str, Any]
                ) -> dict[str, int]:
    """Insert ``batch`` (which shares ``shared``); returns each run's assigned number by id.

    Runs whose id is taken are left out (ON CONFLICT DO NOTHING): the caller sees
    fewer numbers than runs, with no error to spoil its transaction.
    """
    statement = _statement(connection.dialect.name, tuple(shared))
    values = {f"v_{name}": value for name, value in shared.items()}
    if connection.dialect.name == "postgresql":
        values.update(ids=[run.id for run in batch], indexes=[run.index for run in batch])
    else:
        values["pairs"] = json.dumps([[run.id, run.index] for run in batch])
    return {run_id: number for run_id, number in connection.execute(statement, values).all()}


@functools.cache
def _statement(dialect: str, names: tuple[str, ...]) -> sa.Insert:
    if dialect == "postgresql":
        source = sa.func.unnest(
            sa.bindparam("ids", type_=postgresql.ARRAY(sa.Text())),
            sa.bindparam("indexes", type_=postgresql.ARRAY(sa.Integer())),
        ).table_valued("id", "run_index", name="source").render_derived()
        varying: list[sa.ColumnElement[Any]] = [source.c.id, source.c.run_index]
        # Untyped parameters in a SELECT list would be taken as text: say each one's type.
        shared: list[sa.ColumnElement[Any]] = [
            sa.cast(sa.bindparam(f"v_{name}", type_=runs.c[name].type), runs.c[name].type)
            for name in names]
    else:
        source = sa.func.json_each(sa.bindparam("pairs")).table_valued("value", name="source")
        varying = [sa.func.json_extract(source.c.value, "$[0]"),
                   sa.func.json_extract(source.c.value, "$[1]")]
        shared = [sa.bindparam(f"v_{name}", type_=runs.c[name].type) for name in names]
    # SQLite reads ON CONFLICT after a SELECT without WHERE as a join's: say WHERE true.
    select = sa.select(*varying, *shared).select_from(source).where(sa.true())
    insert = postgresql.insert(runs) if dialect == "postgresql" else sqlite.insert(runs)
    return (insert.from_select(["id", "run_index", *names], select).on_conflict_do_nothing()
            .returning(runs.c.id, runs.c.number))
