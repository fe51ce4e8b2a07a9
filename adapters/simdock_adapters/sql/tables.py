"""The schema, as SQLAlchemy Core tables; Alembic migrations must match it.

Every table has an integer ``number`` primary key (the Epistemix dialect's
ids, and cheap joins) beside the prefixed string ``id`` the rest of simdock
uses. A number is never handed out twice, even after its row is deleted
(``sqlite_autoincrement``; PostgreSQL's sequences never go back). Run status
counts are kept in ``run_status_counts`` by triggers that the initial
migration creates, so counting never scans the runs table.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from simdock_adapters.sql.types import UtcDateTime

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

Timestamp = UtcDateTime()
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

users = sa.Table(
    "users", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("full_name", sa.Text),
    sa.Column("password_hash", sa.Text),
    sa.Column("is_active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    # What the address looks like (simdock.domain.identity): null only for an account
    # that shares it with an older one since migration 0008.
    sa.Column("email_skeleton", sa.String(64)),
    sa.Index(None, "email_skeleton", unique=True),
    sqlite_autoincrement=True,
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(400), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Index(None, "key", "at"),
    sqlite_autoincrement=True,
)

#: When an account last logged in from an address (which makes the address known to it).
login_successes = sa.Table(
    "login_successes", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(400), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Index(None, "key", "at"),
    sqlite_autoincrement=True,
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("prefix", sa.String(32), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp),
    sa.Column("last_used_at", Timestamp),
    sa.Column("revoked_at", Timestamp),
    sa.Index(None, "owner_id", "created_at"),
    sqlite_autoincrement=True,
)

machines = sa.Table(
    "machines", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("cpu", sa.Text, nullable=False),
    sa.Column("gpu", sa.Text),
    sa.Column("memory_gb", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.Column("created_by", sa.String(64)),
    sa.Index(None, "status", "created_at"),
    sqlite_autoincrement=True,
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("simulation_type", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("run_count", sa.Integer, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    # The job's SweepSpec record (inline or a blob reference), read apart from the job:
    # NULL for jobs stored before specifications, whose runs keep their own parameters.
    sa.Column("spec", Json),
    # Files its runs execute with (name -> blob key), for jobs registered before their runs.
    sa.Column("input_files", Json),
    sa.Index(None, "owner_id", "created_at", "number"),
    sa.Index(None, "owner_id", "simulation_type", "created_at"),
    sqlite_autoincrement=True,
)

#: The columns a job is read with (its spec is read on its own, when needed).
JOB_FIELDS = [column for column in jobs.c if column.name != "spec"]

job_tags = sa.Table(
    "job_tags", metadata,
    sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("tag", sa.String(200), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index(None, "tag", "job_id"),
)

QUEUED = sa.text("status = 'queued'")
PLACED = sa.text("machine_id IS NOT NULL")
RUNNING = sa.text("status = 'running'")
#: A run that stopped with an error (written as a literal: see QUEUED).
ERRED = sa.text("error IS NOT NULL AND error <> ''")
REUSABLE = sa.text("status = 'succeeded' AND identity IS NOT NULL")
REUSED = sa.text("reused_from IS NOT NULL")

runs = sa.Table(
    "runs", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("simulation_type", sa.Text, nullable=False),
    sa.Column("run_index", sa.Integer, nullable=False),
    # JSON null for every run whose parameters derive from its job's spec (all runs stored
    # since specifications were); a run stored before keeps its own here.
    sa.Column("parameters", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("machine_id", sa.String(64)),
    sa.Column("timeout_seconds", sa.Float),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp),
    sa.Column("finished_at", Timestamp),
    sa.Column("updated_at", Timestamp),
    sa.Column("result", Json),
    sa.Column("error", sa.Text),
    sa.Column("worker", sa.Text),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("lease_expires_at", Timestamp),
    # What a later run reuses it by, and the run a reused run's result is (migration 0014).
    sa.Column("identity", sa.String(64)),
    sa.Column("reused_from", sa.String(64)),
    sa.Index(None, "job_id", "run_index", unique=True),
    # A job's runs of some statuses in index order (a sweep's page filtered by status).
    sa.Index(None, "job_id", "status", "run_index"),
    # When a job's first run started and its last finished, without reading its runs.
    sa.Index(None, "job_id", "started_at"),
    sa.Index(None, "job_id", "finished_at"),
    # A job's first error: few runs have one, so the index holds only those.
    sa.Index("ix_runs_errors", "job_id", "run_index",
             postgresql_where=ERRED, sqlite_where=ERRED),
    sa.Index(None, "owner_id", "created_at", "number"),
    sa.Index(None, "owner_id", "status", "created_at", "number"),
    # The queue: runs waiting to start, by owner and job (fair claiming walks it), in the
    # order they were added (migration 0015).
    sa.Index("ix_runs_queue", "owner_id", "job_id", "number",
             postgresql_where=QUEUED, sqlite_where=QUEUED),
    # Running runs by when their lease lapses: what is taken back from lost workers.
    sa.Index("ix_runs_leases", "lease_expires_at",
             postgresql_where=RUNNING, sqlite_where=RUNNING),
    # A user's succeeded runs by identity: what a new run may reuse.
    sa.Index("ix_runs_reusable", "owner_id", "identity", "number",
             postgresql_where=REUSABLE, sqlite_where=REUSABLE),
    # The runs that reuse a run: what keeps its blobs when its job is deleted.
    sa.Index("ix_runs_reused_from", "reused_from",
             postgresql_where=REUSED, sqlite_where=REUSED),
    # Most runs are on no machine: they are left out of the index.
    sa.Index(None, "machine_id", "created_at",
             postgresql_where=PLACED, sqlite_where=PLACED),
    sqlite_autoincrement=True,
)

run_status_counts = sa.Table(
    "run_status_counts", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("delta", sa.BigInteger, nullable=False),
    sa.Index(None, "owner_id", "status"),
    sqlite_autoincrement=True,
)

#: Run counts and summed progress by job and status, as delta rows written by triggers
#: on runs (migration 0011) and folded by ``simdock_adapters.sql.counts``: a job's
#: summary reads a few rows, not its runs.
job_run_counts = sa.Table(
    "job_run_counts", metadata,
    sa.Column("number", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("runs", sa.BigInteger, nullable=False),
    sa.Column("progress", sa.Float, nullable=False),
    sa.Index(None, "job_id", "status"),
    sqlite_autoincrement=True,
)

reports = sa.Table(
    "reports", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("report_type", sa.Text, nullable=False),
    sa.Column("output_format", sa.String(32), nullable=False),
    sa.Column("job_ids", Json, nullable=False),
    sa.Column("parameters", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("blob_key", sa.Text),
    sa.Column("content_type", sa.Text),
    sa.Column("filename", sa.Text),
    sa.Column("size", sa.BigInteger, nullable=False, default=0),
    sa.Column("error", sa.Text),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp),
    sa.Column("finished_at", Timestamp),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.Index(None, "owner_id", "created_at"),
    sqlite_autoincrement=True,
)

run_logs = sa.Table(
    "run_logs", metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("stream", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)

metric_points = sa.Table(
    "metric_points", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Index(None, "run_id", "name", "step"),
    sa.Index(None, "run_id", "at"),
    sqlite_autoincrement=True,
)

artifacts = sa.Table(
    "artifacts", metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("blob_key", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

#: Workers as their last heartbeat described them (migration 0009).
workers = sa.Table(
    "workers", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("last_beat", Timestamp, nullable=False),
    sa.Column("held", sa.Integer, nullable=False),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("queues", Json, nullable=False),
    sa.Index(None, "last_beat"),
)

#: Every attempt at a run, written by triggers on runs (migration 0010).
run_attempts = sa.Table(
    "run_attempts", metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("worker", sa.Text),
    sa.Column("started_at", Timestamp),
    sa.Column("ended_at", Timestamp),
    sa.Column("outcome", sa.String(32)),
    sa.Column("error", sa.Text),
)

#: The parameter points of replicated jobs: how many replicates each was given, how many
#: ended (failed, lacked the metric), the metric's running moments and, once decided for
#: good, the outcome (migration 0012). A point's row is locked while a replicate's end
#: is counted, so that its batches are decided one at a time.
replicate_points = sa.Table(
    "replicate_points", metadata,
    sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("point", sa.Integer, primary_key=True),
    sa.Column("planned", sa.Integer, nullable=False),
    sa.Column("finished", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("missing", sa.Integer, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("mean", sa.Float, nullable=False),
    sa.Column("m2", sa.Float, nullable=False),
    sa.Column("outcome", sa.String(32)),
    sa.Column("reason", sa.Text),
)
