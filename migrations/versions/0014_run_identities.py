"""Runs reused rather than executed again.

A run gets its identity (what makes it the same computation as another: simulation
type, handler version, canonical parameters, seed), and a run completed with an
earlier run's result names that run in ``reused_from``. Runs stored before this
revision have no identity: they are never reused.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

REUSABLE = sa.text("status = 'succeeded' AND identity IS NOT NULL")
REUSED = sa.text("reused_from IS NOT NULL")


def upgrade() -> None:
    op.add_column("runs", sa.Column("identity", sa.String(length=64), nullable=True))
    op.add_column("runs", sa.Column("reused_from", sa.String(length=64), nullable=True))
    op.create_index("ix_runs_reusable", "runs", ["owner_id", "identity", "number"],
                    postgresql_where=REUSABLE, sqlite_where=REUSABLE)
    op.create_index("ix_runs_reused_from", "runs", ["reused_from"],
                    postgresql_where=REUSED, sqlite_where=REUSED)


def downgrade() -> None:
    op.drop_index("ix_runs_reused_from", table_name="runs")
    op.drop_index("ix_runs_reusable", table_name="runs")
    op.drop_column("runs", "reused_from")
    op.drop_column("runs", "identity")
