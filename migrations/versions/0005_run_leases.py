"""Leases on running runs.

A running run is held by its worker until ``lease_expires_at``; the worker
renews it while it executes the run. A run whose lease has lapsed (its
worker was killed, its host lost) is taken back. Runs left running before
this revision have no lease: they are given one that has already lapsed,
so they are taken back at once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.add_column("runs", sa.Column("lease_expires_at", sa.DateTime(timezone=True),
                                    nullable=True))
    op.execute("UPDATE runs SET lease_expires_at = started_at WHERE status = 'running'")
    op.create_index("ix_runs_leases", "runs", ["lease_expires_at"],
                    postgresql_where=RUNNING, sqlite_where=RUNNING)


def downgrade() -> None:
    op.drop_index("ix_runs_leases", table_name="runs")
    op.drop_column("runs", "lease_expires_at")
