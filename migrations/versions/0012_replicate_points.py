"""The parameter points of replicated jobs.

A replicated job's points each get a row: how many replicates it was given, how many
ended (failed, lacked the metric), the metric's running moments (count, mean, sum of
squared deviations) and, once decided for good, the outcome and why.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replicate_points",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("point", sa.Integer(), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("m2", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE",
                                name=op.f("fk_replicate_points_job_id_jobs")),
        sa.PrimaryKeyConstraint("job_id", "point", name=op.f("pk_replicate_points")),
    )


def downgrade() -> None:
    op.drop_table("replicate_points")
