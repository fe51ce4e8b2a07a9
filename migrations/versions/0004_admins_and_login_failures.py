"""Administrators, machines' creators, and failed logins.

An administrator may change any machine; a machine's creator may change
it too (existing machines have no creator: administrators only). Failed
logins are kept for a while, by account and by client address, so that
repeated guessing is throttled across every server process.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN (a constant default): no table is rebuilt on SQLite.
    op.add_column("users", sa.Column("is_admin", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("machines", sa.Column("created_by", sa.String(length=64), nullable=True))
    op.create_table(
        "login_failures",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_key_at"), "login_failures", ["key", "at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_failures_key_at"), table_name="login_failures")
    op.drop_table("login_failures")
    # Not in batch mode: rebuilding a table on SQLite would cascade deletes into its children.
    op.drop_column("machines", "created_by")
    op.drop_column("users", "is_admin")
