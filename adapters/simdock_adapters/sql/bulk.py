"""Inserting the runs of one submission in one set-based statement.

A sweep's runs differ only in their id, index and identity (and, for runs that
reuse earlier ones, in the run and result they reuse): everything else (job,
owner, status, times...) is the same. Such a batch is inserted by one
``INSERT ... SELECT`` over what varies, sent as arrays on PostgreSQL
(``unnest``) and as one JSON array on SQLite (``json_each``), with the shared
values bound once. The database then does the per-row work: for 100,000 runs
that is seconds faster than sending 100,000 rows.
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
VARYING = ("id", "index", "number", "identity", "reused_from", "result")
#: The columns sent per run, in order.
_COLUMNS = ("id", "run_index", "identity", "reused_from", "result")
_shared = operator.attrgetter(*(f.name for f in dataclasses.fields(Run) if f.name not in VARYING))


def shared_row(batch: Sequence[Run]) -> dict[str, Any] | None:
    """The row every run of ``batch`` shares but for id and index, or None if they differ more."""
    first = _shared(batch[0])
    if any(_shared(run) != first for run in batch[1:]):
        return None
    row = mappers.run_row(batch[0])
    for name in _COLUMNS:
        del row[name]
    return row


def insert_runs(connection: sa.Connection, batch: Sequence[Run], shared: dict[str, Any]
                ) -> dict[str, int]:
    """Insert ``batch`` (which shares ``shared``); returns each run's assigned number by id.

    Runs whose id is taken are left out (ON CONFLICT DO NOTHING): the caller sees
    fewer numbers than runs, with no error to spoil its transaction.
    """
    statement = _statement(connection.dialect.name, tuple(shared))
    values = {f"v_{name}": value for name, value in shared.items()}
    rows = [(run.id, run.index, run.identity, run.reused_from,
             mappers.payload_record(run.result)) for run in batch]
    if connection.dialect.name == "postgresql":
        for position, name in enumerate(_COLUMNS):
            values[f"a_{name}"] = [row[position] if name != "result" or row[position] is None
                                   else json.dumps(row[position]) for row in rows]
    else:
        values["rows"] = json.dumps(rows)
    return {run_id: number for run_id, number in connection.execute(statement, values).all()}


@functools.cache
def _statement(dialect: str, names: tuple[str, ...]) -> sa.Insert:
    if dialect == "postgresql":
        source = sa.func.unnest(*(
            sa.bindparam(f"a_{name}", type_=postgresql.ARRAY(
                sa.Integer() if name == "run_index" else sa.Text()))
            for name in _COLUMNS)).table_valued(*_COLUMNS, name="source").render_derived()
        varying: list[sa.ColumnElement[Any]] = [
            sa.cast(source.c[name], postgresql.JSONB()) if name == "result"
            else source.c[name] for name in _COLUMNS]
        # Untyped parameters in a SELECT list would be taken as text: say each one's type.
        shared: list[sa.ColumnElement[Any]] = [
            sa.cast(sa.bindparam(f"v_{name}", type_=runs.c[name].type), runs.c[name].type)
            for name in names]
    else:
        source = sa.func.json_each(sa.bindparam("rows")).table_valued("value", name="source")
        varying = [sa.func.json_extract(source.c.value, f"$[{position}]")
                   for position in range(len(_COLUMNS))]
        shared = [sa.bindparam(f"v_{name}", type_=runs.c[name].type) for name in names]
    # SQLite reads ON CONFLICT after a SELECT without WHERE as a join's: say WHERE true.
    select = sa.select(*varying, *shared).select_from(source).where(sa.true())
    insert = postgresql.insert(runs) if dialect == "postgresql" else sqlite.insert(runs)
    return (insert.from_select([*_COLUMNS, *names], select).on_conflict_do_nothing()
            .returning(runs.c.id, runs.c.number))
