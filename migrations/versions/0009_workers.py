"""Workers and their heartbeats: who is executing, where, and how much.

Each worker process (``simdock worker``, or ``simdock serve`` executing in its own
threads) writes a row at every heartbeat: its name (``host:pid``, as the runs it
holds name it), host, when it started, its last beat, the runs it held then, its
slots and the queues it takes. The dashboard's workers page lists those that beat
lately; rows of workers silent for a day are deleted by the workers themselves.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("last_beat", TIMESTAMP, nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("queues", Json, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workers")),
    )
    op.create_index(op.f("ix_workers_last_beat"), "workers", ["last_beat"])


def downgrade() -> None:
    op.drop_index(op.f("ix_workers_last_beat"), table_name="workers")
    op.drop_table("workers")
