"""Sweeps stored once, and the queue of runs as a partial index.

Each job keeps its sweep specification (``jobs.spec``); runs stored before
this revision keep their own parameters (``runs.parameters``), new runs store
JSON null there and derive theirs from the spec. Queued runs are found, fairly
by owner and job, through ``ix_runs_queue`` (only queued runs are in it); the
index of runs by status over every owner had no reader left, and the machine
index leaves out the runs placed on no machine.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 02:00:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from simdock.domain import SweepSpec

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
QUEUED = sa.text("status = 'queued'")
PLACED = sa.text("machine_id IS NOT NULL")


def upgrade() -> None:
    op.add_column("jobs", sa.Column("spec", JSON, nullable=True))
    op.create_index("ix_runs_queue", "runs", ["owner_id", "job_id", "run_index"],
                    postgresql_where=QUEUED, sqlite_where=QUEUED)
    op.drop_index("ix_runs_status_created_at_number", table_name="runs")
    op.drop_index("ix_runs_machine_id_created_at", table_name="runs")
    op.create_index("ix_runs_machine_id_created_at", "runs", ["machine_id", "created_at"],
                    postgresql_where=PLACED, sqlite_where=PLACED)


def downgrade() -> None:
    """Give every run derived from a spec its parameters back as its own, then drop specs.

    Refused when a spec lies in the blob store, which a migration cannot read:
    downgrading would leave those runs without parameters.
    """
    bind = op.get_bind()
    jobs = sa.table("jobs", sa.column("id", sa.String), sa.column("spec", JSON))
    runs = sa.table("runs", sa.column("job_id", sa.String), sa.column("run_index", sa.Integer),
                    sa.column("parameters", JSON))
    specs = bind.execute(sa.select(jobs.c.id, jobs.c.spec).where(jobs.c.spec.is_not(None))).all()
    in_blobs = [job_id for job_id, record in specs if record and "$blob" in record]
    if in_blobs:
        raise RuntimeError(
            f"cannot downgrade below 0003: {len(in_blobs)} job(s) keep their sweep specification "
            f"in the blob store (first: {in_blobs[0]}); their runs would lose their parameters")
    for job_id, record in specs:
        if not record:
            continue
        spec = SweepSpec.from_record(record["$inline"])
        derived = bind.execute(sa.select(runs.c.run_index, runs.c.parameters)
                               .where(runs.c.job_id == job_id)).all()
        for index, own in derived:
            if own is None:
                bind.execute(runs.update()
                             .where(runs.c.job_id == job_id, runs.c.run_index == index)
                             .values(parameters=_inline(spec.parameters(index))))
    op.drop_index("ix_runs_machine_id_created_at", table_name="runs")
    op.create_index("ix_runs_machine_id_created_at", "runs", ["machine_id", "created_at"])
    op.create_index("ix_runs_status_created_at_number", "runs",
                    ["status", "created_at", "number"])
    op.drop_index("ix_runs_queue", table_name="runs")
    # Not in batch mode: rebuilding jobs on SQLite would delete every run (ON DELETE
    # CASCADE); SQLite 3.35+ drops a column in place.
    op.drop_column("jobs", "spec")


def _inline(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    return {"$inline": value, "size": size}
