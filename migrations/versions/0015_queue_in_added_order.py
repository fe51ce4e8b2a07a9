"""Queued runs claimed in the order they were added (their number), not their index.

For most jobs the two orders are one: a sweep's runs are added in index order. A
replicated job's are not: its batches are added point by point as replicates end, while
a run's index interleaves the points (replicate r of point p is r x points + p). In index
order every claim took a few replicates of every point, so every worker recording its
outcomes locked every point, and each waited for the others' commits; in the order they
were added, a claim takes a batch of one point (on two Dramatiq workers, the adaptive
job's median time went from 58.5 s to 49.9 s, beside 48 s for a fixed sweep of as many
runs: ``bench_replication``). The queue's index is rebuilt on the run's number.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 22:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

QUEUED = sa.text("status = 'queued'")


def upgrade() -> None:
    op.drop_index("ix_runs_queue", table_name="runs")
    op.create_index("ix_runs_queue", "runs", ["owner_id", "job_id", "number"],
                    postgresql_where=QUEUED, sqlite_where=QUEUED)


def downgrade() -> None:
    op.drop_index("ix_runs_queue", table_name="runs")
    op.create_index("ix_runs_queue", "runs", ["owner_id", "job_id", "run_index"],
                    postgresql_where=QUEUED, sqlite_where=QUEUED)
