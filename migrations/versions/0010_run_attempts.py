"""Every attempt at a run: its worker, when it started and ended, and how it ended.

Triggers on ``runs`` write them whatever statement changes a run's status (a claim of
one run or of many, a finish, a cancel of a whole job, a lease taken back): a row when
a run starts running (``attempt`` is its count of attempts then; a run handed back
without its attempt counting starts the same attempt again, and its row is written
over), and its end when it stops: the run's new status, or "queued again" when it went
back to the queue (``simdock.domain.records.attempt_outcome`` is the same rule), with
the run's error. PostgreSQL's triggers are statement-level over transition tables, as
the status counts' are; SQLite's are row-level.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION simdock_record_attempts() RETURNS trigger AS $$
    BEGIN
        UPDATE run_attempts a
           SET ended_at = COALESCE(n.finished_at, n.updated_at),
               outcome = CASE WHEN n.status = 'queued' THEN 'queued again' ELSE n.status END,
               error = n.error
          FROM old_rows o JOIN new_rows n ON n.number = o.number
         WHERE o.status = 'running' AND n.status <> 'running'
           AND a.run_id = o.id AND a.attempt = o.attempts;
        INSERT INTO run_attempts (run_id, attempt, worker, started_at)
        SELECT n.id, n.attempts, n.worker, n.started_at
          FROM old_rows o JOIN new_rows n ON n.number = o.number
         WHERE n.status = 'running' AND o.status <> 'running'
        ON CONFLICT (run_id, attempt) DO UPDATE
           SET worker = EXCLUDED.worker, started_at = EXCLUDED.started_at,
               ended_at = NULL, outcome = NULL, error = NULL;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER runs_record_attempts AFTER UPDATE ON runs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION simdock_record_attempts()
    """,
]
POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS runs_record_attempts ON runs",
                   "DROP FUNCTION IF EXISTS simdock_record_attempts()"]

SQLITE = [
    """
    CREATE TRIGGER IF NOT EXISTS runs_attempt_ended AFTER UPDATE OF status ON runs
    WHEN OLD.status = 'running' AND NEW.status <> 'running'
    BEGIN
        UPDATE run_attempts
           SET ended_at = COALESCE(NEW.finished_at, NEW.updated_at),
               outcome = CASE WHEN NEW.status = 'queued' THEN 'queued again'
                              ELSE NEW.status END,
               error = NEW.error
         WHERE run_id = OLD.id AND attempt = OLD.attempts;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS runs_attempt_started AFTER UPDATE OF status ON runs
    WHEN NEW.status = 'running' AND OLD.status <> 'running'
    BEGIN
        INSERT INTO run_attempts (run_id, attempt, worker, started_at)
        VALUES (NEW.id, NEW.attempts, NEW.worker, NEW.started_at)
        ON CONFLICT (run_id, attempt) DO UPDATE
           SET worker = excluded.worker, started_at = excluded.started_at,
               ended_at = NULL, outcome = NULL, error = NULL;
    END
    """,
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS runs_attempt_ended",
               "DROP TRIGGER IF EXISTS runs_attempt_started"]


def upgrade() -> None:
    op.create_table(
        "run_attempts",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.Text(), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE",
                                name=op.f("fk_run_attempts_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "attempt", name=op.f("pk_run_attempts")),
    )
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    for statement in (POSTGRESQL_DROP if op.get_bind().dialect.name == "postgresql"
                      else SQLITE_DROP):
        op.execute(statement)
    op.drop_table("run_attempts")
