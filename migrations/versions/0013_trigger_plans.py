"""The runs' statement triggers planned for the statement at hand (PostgreSQL).

PL/pgSQL keeps the plan of a statement in a function from its first execution in a
session. The three statement-level triggers on ``runs`` join the old and the new rows
of an UPDATE; the first UPDATE a connection makes is usually of one run (a claim, a
finish), so the join is planned as a nested loop over one row each side, and kept.
When the same connection later cancels a sweep, that loop goes over every pair of its
rows: 10,000 runs took 43 s with workers beside it (0.5 s on a new connection), and
100,000 would take over an hour.

Here the counting triggers no longer join at all: each old row counts -1 and each new
row +1 in its (owner or job, status), and a row that did not change cancels out
(groups that sum to nothing are not written). The attempts trigger needs the pairs, so
it runs its statements through EXECUTE, which plans them for the rows of each UPDATE.
SQLite's triggers are row-level and unchanged. The downgrade keeps these definitions:
they are what the earlier ones meant, on the same tables.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION simdock_count_updated_runs() RETURNS trigger AS $$
    BEGIN
        INSERT INTO run_status_counts (owner_id, status, delta)
        SELECT owner_id, status, sum(delta) FROM (
            SELECT owner_id, status, -1 AS delta FROM old_rows
            UNION ALL
            SELECT owner_id, status, 1 AS delta FROM new_rows
        ) AS changes GROUP BY owner_id, status
        HAVING sum(delta) <> 0;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION simdock_count_job_runs_updated() RETURNS trigger AS $$
    BEGIN
        INSERT INTO job_run_counts (job_id, status, runs, progress)
        SELECT job_id, status, sum(runs), sum(progress) FROM (
            SELECT job_id, status, -1 AS runs, -progress AS progress FROM old_rows
            UNION ALL
            SELECT job_id, status, 1 AS runs, progress FROM new_rows
        ) AS changes GROUP BY job_id, status
        HAVING sum(runs) <> 0 OR sum(progress) <> 0;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION simdock_record_attempts() RETURNS trigger AS $$
    BEGIN
        EXECUTE $sql$
        UPDATE run_attempts a
           SET ended_at = COALESCE(n.finished_at, n.updated_at),
               outcome = CASE WHEN n.status = 'queued' THEN 'queued again' ELSE n.status END,
               error = n.error
          FROM old_rows o JOIN new_rows n ON n.number = o.number
         WHERE o.status = 'running' AND n.status <> 'running'
           AND a.run_id = o.id AND a.attempt = o.attempts
        $sql$;
        EXECUTE $sql$
        INSERT INTO run_attempts (run_id, attempt, worker, started_at)
        SELECT n.id, n.attempts, n.worker, n.started_at
          FROM old_rows o JOIN new_rows n ON n.number = o.number
         WHERE n.status = 'running' AND o.status <> 'running'
        ON CONFLICT (run_id, attempt) DO UPDATE
           SET worker = EXCLUDED.worker, started_at = EXCLUDED.started_at,
               ended_at = NULL, outcome = NULL, error = NULL
        $sql$;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    """Nothing to undo: the definitions above count and record what the earlier did."""
