"""The least a Flask app can do to answer bench_epistemix's two targeted endpoints from
simdock's PostgreSQL tables: the ceiling that bench prints beside simdock's figures.

No authentication, no validation, no use cases: one connection per thread (autocommit),
one statement per request, the answer built straight from the rows. Whatever simdock
does per request beyond this is the price of being a real service; what this reaches,
served the same way, bounds what any Flask app reaches here.

    MINIMAL_DATABASE_URL=postgresql://... MINIMAL_OWNER_ID=usr-... \\
        gunicorn benchmarks.minimal_epistemix:app
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from flask import Flask, Response, request

app = Flask("minimal_epistemix")
_local = threading.local()

REGISTER = """
WITH new_job AS (
    INSERT INTO jobs (id, owner_id, simulation_type, kind, run_count, metadata, created_at)
    VALUES (%s, %s, 'fred', 'open', 0, '{}', %s) RETURNING id, number),
new_tags AS (
    INSERT INTO job_tags (job_id, tag, position)
    SELECT new_job.id, t.tag, t.ordinal - 1
    FROM new_job, unnest(%s::text[]) WITH ORDINALITY AS t(tag, ordinal))
SELECT number FROM new_job"""
# The job is found first, on its own: a join left to the planner was seen to scan every
# run once the statement was prepared (a generic plan), at 86 requests per second.
RUNS = """
SELECT runs.number, %s, runs.created_at, runs.status, runs.parameters,
       runs.metadata ->> 'epx_client_version'
FROM runs
WHERE runs.job_id = (SELECT id FROM jobs WHERE number = %s AND owner_id = %s)
ORDER BY runs.run_index"""


def _connection() -> psycopg.Connection[Any]:
    connection: psycopg.Connection[Any] | None = getattr(_local, "connection", None)
    if connection is None:
        connection = _local.connection = psycopg.connect(os.environ["MINIMAL_DATABASE_URL"],
                                                         autocommit=True)
    return connection


def _json(document: object) -> Response:
    return Response(json.dumps(document), mimetype="application/json")


@app.post("/jobs/register")
def register() -> Response:
    tags = json.loads(request.get_data())["tags"]
    row = _connection().execute(REGISTER, (uuid.uuid4().hex, os.environ["MINIMAL_OWNER_ID"],
                                           datetime.now(UTC), tags)).fetchone()
    assert row is not None
    return _json({"id": row[0], "userId": 1, "tags": tags})


@app.get("/runs")
def runs() -> Response:
    job = int(request.args["job_id"])
    rows = _connection().execute(RUNS, (job, job, os.environ["MINIMAL_OWNER_ID"])).fetchall()
    return _json({"runs": [
        {"id": number, "jobId": job, "userId": 1,
         "createdTs": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "request": parameters, "podPhase": "Pending", "containerStatus": None,
         "status": "QUEUED" if status == "queued" else status.upper(),
         "userDeleted": status == "cancelled", "epxClientVersion": version}
        for number, job, created, status, parameters, version in rows]})
