"""Initial schema: users, machines, jobs, runs, reports, logs, metrics, artifacts.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 02:21:35.373162
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# Run counts by owner and status are kept in run_status_counts by triggers,
# so counting never scans runs. PostgreSQL uses statement-level triggers with
# transition tables (a sweep's bulk insert adds one row per owner and status);
# SQLite has only row-level triggers.
POSTGRESQL_TRIGGERS = [
    """
    CREATE OR REPLACE FUNCTION simdock_count_inserted_runs() RETURNS trigger AS $$
    BEGIN
        INSERT INTO run_status_counts (owner_id, status, delta)
        SELECT owner_id, status, count(*) FROM new_rows GROUP BY owner_id, status;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION simdock_count_updated_runs() RETURNS trigger AS $$
    BEGIN
        INSERT INTO run_status_counts (owner_id, status, delta)
        SELECT owner_id, status, sum(delta) FROM (
            SELECT o.owner_id, o.status, -1 AS delta
              FROM old_rows o JOIN new_rows n ON n.number = o.number
             WHERE o.status <> n.status OR o.owner_id <> n.owner_id
            UNION ALL
            SELECT n.owner_id, n.status, 1 AS delta
              FROM old_rows o JOIN new_rows n ON n.number = o.number
             WHERE o.status <> n.status OR o.owner_id <> n.owner_id
        ) AS changes GROUP BY owner_id, status;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION simdock_count_deleted_runs() RETURNS trigger AS $$
    BEGIN
        INSERT INTO run_status_counts (owner_id, status, delta)
        SELECT owner_id, status, -count(*) FROM old_rows GROUP BY owner_id, status;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER runs_count_inserted AFTER INSERT ON runs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION simdock_count_inserted_runs()
    """,
    """
    CREATE TRIGGER runs_count_updated AFTER UPDATE ON runs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION simdock_count_updated_runs()
    """,
    """
    CREATE TRIGGER runs_count_deleted AFTER DELETE ON runs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION simdock_count_deleted_runs()
    """,
]

POSTGRESQL_DROP_TRIGGERS = [
    'DROP TRIGGER IF EXISTS runs_count_inserted ON runs',
    'DROP TRIGGER IF EXISTS runs_count_updated ON runs',
    'DROP TRIGGER IF EXISTS runs_count_deleted ON runs',
    'DROP FUNCTION IF EXISTS simdock_count_inserted_runs()',
    'DROP FUNCTION IF EXISTS simdock_count_updated_runs()',
    'DROP FUNCTION IF EXISTS simdock_count_deleted_runs()',
]

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER IF NOT EXISTS runs_count_inserted AFTER INSERT ON runs
    BEGIN
        INSERT INTO run_status_counts (owner_id, status, delta)
        VALUES (NEW.owner_id, NEW.status, 1);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS runs_count_updated AFTER UPDATE OF status, owner_id ON runs
    WHEN OLD.status <> NEW.status OR OLD.owner_id <> NEW.owner_id
    BEGIN
        INSERT INTO run_status_counts (owner_id, status, delta)
        VALUES (OLD.owner_id, OLD.status, -1), (NEW.owner_id, NEW.status, 1);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS runs_count_deleted AFTER DELETE ON runs
    BEGIN
        INSERT INTO run_status_counts (owner_id, status, delta)
        VALUES (OLD.owner_id, OLD.status, -1);
    END
    """,
]

SQLITE_DROP_TRIGGERS = [
    'DROP TRIGGER IF EXISTS runs_count_inserted',
    'DROP TRIGGER IF EXISTS runs_count_updated',
    'DROP TRIGGER IF EXISTS runs_count_deleted',
]


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("simulation_type", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_jobs")),
        sa.UniqueConstraint("id", name=op.f("uq_jobs_id")),
    )
    op.create_index(
        op.f("ix_jobs_owner_id_created_at_number"),
        "jobs",
        ["owner_id", "created_at", "number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_jobs_owner_id_simulation_type_created_at"),
        "jobs",
        ["owner_id", "simulation_type", "created_at"],
        unique=False,
    )
    op.create_table(
        "machines",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("cpu", sa.Text(), nullable=False),
        sa.Column("gpu", sa.Text(), nullable=True),
        sa.Column("memory_gb", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_machines")),
        sa.UniqueConstraint("id", name=op.f("uq_machines_id")),
    )
    op.create_index(
        op.f("ix_machines_status_created_at"), "machines", ["status", "created_at"], unique=False
    )
    op.create_table(
        "reports",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("report_type", sa.Text(), nullable=False),
        sa.Column("output_format", sa.String(length=32), nullable=False),
        sa.Column("job_ids", JSON, nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("blob_key", sa.Text(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_reports")),
        sa.UniqueConstraint("id", name=op.f("uq_reports_id")),
    )
    op.create_index(
        op.f("ix_reports_owner_id_created_at"), "reports", ["owner_id", "created_at"], unique=False
    )
    op.create_table(
        "run_status_counts",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_run_status_counts")),
    )
    op.create_index(
        op.f("ix_run_status_counts_owner_id_status"),
        "run_status_counts",
        ["owner_id", "status"],
        unique=False,
    )
    op.create_table(
        "users",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_users")),
        sa.UniqueConstraint("email_key", name=op.f("uq_users_email_key")),
        sa.UniqueConstraint("id", name=op.f("uq_users_id")),
    )
    op.create_table(
        "job_tags",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_tags_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "tag", name=op.f("pk_job_tags")),
    )
    op.create_index(op.f("ix_job_tags_tag_job_id"), "job_tags", ["tag", "job_id"], unique=False)
    op.create_table(
        "runs",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("simulation_type", sa.Text(), nullable=False),
        sa.Column("run_index", sa.Integer(), nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.String(length=64), nullable=True),
        sa.Column("timeout_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_runs_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_runs")),
        sa.UniqueConstraint("id", name=op.f("uq_runs_id")),
    )
    op.create_index(op.f("ix_runs_job_id_run_index"), "runs", ["job_id", "run_index"], unique=True)
    op.create_index(op.f("ix_runs_job_id_status"), "runs", ["job_id", "status"], unique=False)
    op.create_index(
        op.f("ix_runs_machine_id_created_at"), "runs", ["machine_id", "created_at"], unique=False
    )
    op.create_index(
        op.f("ix_runs_owner_id_created_at_number"),
        "runs",
        ["owner_id", "created_at", "number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_runs_owner_id_status_created_at_number"),
        "runs",
        ["owner_id", "status", "created_at", "number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_runs_status_created_at_number"),
        "runs",
        ["status", "created_at", "number"],
        unique=False,
    )
    op.create_table(
        "artifacts",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("blob_key", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_artifacts_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "name", name=op.f("pk_artifacts")),
    )
    op.create_table(
        "metric_points",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_metric_points_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_metric_points")),
    )
    op.create_index(
        op.f("ix_metric_points_run_id_at"), "metric_points", ["run_id", "at"], unique=False
    )
    op.create_index(
        op.f("ix_metric_points_run_id_name_step"),
        "metric_points",
        ["run_id", "name", "step"],
        unique=False,
    )
    op.create_table(
        "run_logs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("stream", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_logs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_run_logs")),
    )
    postgresql_db = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql_db else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgresql_db = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DROP_TRIGGERS if postgresql_db else SQLITE_DROP_TRIGGERS:
        op.execute(statement)
    op.drop_table("run_logs")
    op.drop_index(op.f("ix_metric_points_run_id_name_step"), table_name="metric_points")
    op.drop_index(op.f("ix_metric_points_run_id_at"), table_name="metric_points")
    op.drop_table("metric_points")
    op.drop_table("artifacts")
    op.drop_index(op.f("ix_runs_status_created_at_number"), table_name="runs")
    op.drop_index(op.f("ix_runs_owner_id_status_created_at_number"), table_name="runs")
    op.drop_index(op.f("ix_runs_owner_id_created_at_number"), table_name="runs")
    op.drop_index(op.f("ix_runs_machine_id_created_at"), table_name="runs")
    op.drop_index(op.f("ix_runs_job_id_status"), table_name="runs")
    op.drop_index(op.f("ix_runs_job_id_run_index"), table_name="runs")
    op.drop_table("runs")
    op.drop_index(op.f("ix_job_tags_tag_job_id"), table_name="job_tags")
    op.drop_table("job_tags")
    op.drop_table("users")
    op.drop_index(op.f("ix_run_status_counts_owner_id_status"), table_name="run_status_counts")
    op.drop_table("run_status_counts")
    op.drop_index(op.f("ix_reports_owner_id_created_at"), table_name="reports")
    op.drop_table("reports")
    op.drop_index(op.f("ix_machines_status_created_at"), table_name="machines")
    op.drop_table("machines")
    op.drop_index(op.f("ix_jobs_owner_id_simulation_type_created_at"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_owner_id_created_at_number"), table_name="jobs")
    op.drop_table("jobs")
