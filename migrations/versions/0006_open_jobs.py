"""Jobs registered before their runs: their input files.

A job made before its runs (the Epistemix dialect's register, then runs added)
carries the files its runs execute with: a JSON object from a name in the run's
input directory to a blob key. NULL for every other job.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("jobs", sa.Column("input_files", Json, nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "input_files")
