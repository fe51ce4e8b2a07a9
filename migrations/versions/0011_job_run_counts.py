"""A job's summary without reading its runs: counts by job and indexes by job.

``job_run_counts`` holds, as delta rows, how many of a job's runs are in each status
and the sum of their progress: triggers on ``runs`` append a row whenever a run is
inserted or deleted, or its status, job or progress changes (PostgreSQL's triggers are
statement-level over transition tables, a row per job and status a statement touched;
SQLite's are row-level), and the adapter folds a job's rows when it reads too many.
The rows are filled from the runs there are.

New indexes on runs answer the rest of a summary from the index alone: the first
start and last finish of a job's runs, the first error (a partial index: few runs have
one), and its runs of a status in index order (replacing the index on job and status).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ERRED = sa.text("error IS NOT NULL AND error <> ''")

# A run's row differs for the counts when its status, job or progress changed.
_CHANGED = "o.status <> n.status OR o.job_id <> n.job_id OR o.progress <> n.progress"

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION simdock_count_job_runs_inserted() RETURNS trigger AS $$
    BEGIN
        INSERT INTO job_run_counts (job_id, status, runs, progress)
        SELECT job_id, status, count(*), sum(progress) FROM new_rows
         GROUP BY job_id, status;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE OR REPLACE FUNCTION simdock_count_job_runs_updated() RETURNS trigger AS $$
    BEGIN
        INSERT INTO job_run_counts (job_id, status, runs, progress)
        SELECT job_id, status, sum(runs), sum(progress) FROM (
            SELECT o.job_id, o.status, -1 AS runs, -o.progress AS progress
              FROM old_rows o JOIN new_rows n ON n.number = o.number WHERE {_CHANGED}
            UNION ALL
            SELECT n.job_id, n.status, 1 AS runs, n.progress
              FROM old_rows o JOIN new_rows n ON n.number = o.number WHERE {_CHANGED}
        ) AS changes GROUP BY job_id, status
        HAVING sum(runs) <> 0 OR sum(progress) <> 0;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION simdock_count_job_runs_deleted() RETURNS trigger AS $$
    BEGIN
        INSERT INTO job_run_counts (job_id, status, runs, progress)
        SELECT job_id, status, -count(*), -sum(progress) FROM old_rows
         GROUP BY job_id, status;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER runs_count_job_inserted AFTER INSERT ON runs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION simdock_count_job_runs_inserted()
    """,
    """
    CREATE TRIGGER runs_count_job_updated AFTER UPDATE ON runs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION simdock_count_job_runs_updated()
    """,
    """
    CREATE TRIGGER runs_count_job_deleted AFTER DELETE ON runs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION simdock_count_job_runs_deleted()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS runs_count_job_inserted ON runs",
    "DROP TRIGGER IF EXISTS runs_count_job_updated ON runs",
    "DROP TRIGGER IF EXISTS runs_count_job_deleted ON runs",
    "DROP FUNCTION IF EXISTS simdock_count_job_runs_inserted()",
    "DROP FUNCTION IF EXISTS simdock_count_job_runs_updated()",
    "DROP FUNCTION IF EXISTS simdock_count_job_runs_deleted()",
]

SQLITE = [
    """
    CREATE TRIGGER IF NOT EXISTS runs_count_job_inserted AFTER INSERT ON runs
    BEGIN
        INSERT INTO job_run_counts (job_id, status, runs, progress)
        VALUES (NEW.job_id, NEW.status, 1, NEW.progress);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS runs_count_job_updated
    AFTER UPDATE OF status, job_id, progress ON runs
    WHEN OLD.status <> NEW.status OR OLD.job_id <> NEW.job_id
         OR OLD.progress <> NEW.progress
    BEGIN
        INSERT INTO job_run_counts (job_id, status, runs, progress)
        VALUES (OLD.job_id, OLD.status, -1, -OLD.progress),
               (NEW.job_id, NEW.status, 1, NEW.progress);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS runs_count_job_deleted AFTER DELETE ON runs
    BEGIN
        INSERT INTO job_run_counts (job_id, status, runs, progress)
        VALUES (OLD.job_id, OLD.status, -1, -OLD.progress);
    END
    """,
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS runs_count_job_inserted",
               "DROP TRIGGER IF EXISTS runs_count_job_updated",
               "DROP TRIGGER IF EXISTS runs_count_job_deleted"]

FILL = """
INSERT INTO job_run_counts (job_id, status, runs, progress)
SELECT job_id, status, count(*), sum(progress) FROM runs GROUP BY job_id, status
"""


def upgrade() -> None:
    op.create_table(
        "job_run_counts",
        sa.Column("number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_job_run_counts")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_job_run_counts_job_id_status"), "job_run_counts",
                    ["job_id", "status"])
    op.drop_index(op.f("ix_runs_job_id_status"), table_name="runs")
    op.create_index(op.f("ix_runs_job_id_status_run_index"), "runs",
                    ["job_id", "status", "run_index"])
    op.create_index(op.f("ix_runs_job_id_started_at"), "runs", ["job_id", "started_at"])
    op.create_index(op.f("ix_runs_job_id_finished_at"), "runs", ["job_id", "finished_at"])
    op.create_index("ix_runs_errors", "runs", ["job_id", "run_index"],
                    postgresql_where=ERRED, sqlite_where=ERRED)
    # Filled before the triggers exist, in the migration's transaction: no run changes
    # in between, since creating the indexes holds a lock that keeps writers out of runs
    # until it commits (SQLite has one writer).
    op.execute(FILL)
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    for statement in (POSTGRESQL_DROP if op.get_bind().dialect.name == "postgresql"
                      else SQLITE_DROP):
        op.execute(statement)
    op.drop_index("ix_runs_errors", table_name="runs")
    op.drop_index(op.f("ix_runs_job_id_finished_at"), table_name="runs")
    op.drop_index(op.f("ix_runs_job_id_started_at"), table_name="runs")
    op.drop_index(op.f("ix_runs_job_id_status_run_index"), table_name="runs")
    op.create_index(op.f("ix_runs_job_id_status"), "runs", ["job_id", "status"])
    op.drop_index(op.f("ix_job_run_counts_job_id_status"), table_name="job_run_counts")
    op.drop_table("job_run_counts")
