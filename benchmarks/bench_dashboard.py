"""The dashboard's server time at a million runs, in PostgreSQL.

Fills a scratch database through plain SQL with 1,000,000 runs across 1,000 jobs of
one user (999 sweeps of about 900 runs, and one grid sweep of 100,000 whose succeeded
runs have a numeric result), one run of which has 100,000 log lines, and 20 live
workers; then signs in and times each page in-process (the Flask app
over PostgreSQL, no HTTP server: the server's own time), 50 requests each after 5 of
warm-up, and prints p50 and p95 beside the bare ``GET /api/v1/jobs/{id}`` of the same
run measured the same way (the baseline). Target: p95 under 100 ms for every page,
whatever its depth. Also prints how soon the 100,000-run sweep's results archive
starts and how long it takes whole (no target: a download), and the size of the
dashboard's own JS and CSS, gzipped (target: under 150 kB).

    python -m benchmarks.bench_dashboard [--runs 1000000] [--samples 50]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.measure import machine, timed
from benchmarks.pg import drop, scratch_database, settle
from simdock_adapters.http import dashboard
from simdock_adapters.http.app import create_app
from simdock_adapters.settings import Settings
from simdock_adapters.sql import make_engine

EMAIL, PASSWORD = "bench@example.com", "benchmark-password"
BIG = "job-big000000000000"
LOGGED = "run-big000000000000000"
FILL = r"""
INSERT INTO jobs (id, owner_id, simulation_type, kind, run_count, metadata, created_at)
SELECT 'job-' || lpad(j::text, 17, '0'), :owner, 'noop', 'sweep', :per_job, '{}',
       timestamptz '2026-01-01' + j * interval '1 minute'
  FROM generate_series(0, :jobs - 1) AS j;

INSERT INTO job_tags (job_id, tag, position)
SELECT 'job-' || lpad(j::text, 17, '0'), 'batch-' || (j % 10), 0
  FROM generate_series(0, :jobs - 1) AS j;

INSERT INTO runs (id, job_id, owner_id, simulation_type, run_index, parameters, status,
                  progress, attempts, created_at, started_at, finished_at, updated_at,
                  version, metadata)
SELECT 'run-' || lpad((j * :per_job + i)::text, 17, '0'), 'job-' || lpad(j::text, 17, '0'),
       :owner, 'noop', i, jsonb_build_object('$inline', jsonb_build_object('x', i, 'y', j)),
       (ARRAY['succeeded','succeeded','succeeded','failed','cancelled'])[1 + ((i + j) % 5)],
       1, 1, timestamptz '2026-01-01' + j * interval '1 minute',
       timestamptz '2026-01-01' + j * interval '1 minute' + interval '1 s',
       timestamptz '2026-01-01' + j * interval '1 minute' + interval '3 s',
       timestamptz '2026-01-01' + j * interval '1 minute' + interval '3 s', 1, '{}'
  FROM generate_series(0, :jobs - 1) AS j, generate_series(0, :per_job - 1) AS i;

INSERT INTO jobs (id, owner_id, simulation_type, kind, run_count, metadata, created_at)
VALUES (:big, :owner, 'noop', 'sweep', :big_runs, '{}', timestamptz '2027-01-01');

INSERT INTO runs (id, job_id, owner_id, simulation_type, run_index, parameters, status,
                  progress, attempts, created_at, version, metadata, started_at)
SELECT CASE WHEN i = 0 THEN :logged ELSE 'run-big' || lpad(i::text, 15, '0') END, :big,
       :owner, 'noop', i, 'null'::jsonb,
       (ARRAY['succeeded','running','queued'])[1 + (i % 3)], 0.5, 1,
       timestamptz '2027-01-01', 1, '{}', timestamptz '2027-01-01'
  FROM generate_series(0, :big_runs - 1) AS i;

UPDATE runs SET result = jsonb_build_object('$inline', jsonb_build_object(
           'estimate', 3.14 + ((run_index % 1000) / 100) * 0.001 + (run_index % 7) * 0.0001))
 WHERE job_id = :big AND status = 'succeeded';

UPDATE jobs SET spec = jsonb_build_object('$inline', jsonb_build_object(
           'base', '{}'::jsonb, 'grid', jsonb_build_array(
               jsonb_build_array('rate', (SELECT jsonb_agg(r) FROM generate_series(0, 99) AS r)),
               jsonb_build_array('seed', (SELECT jsonb_agg(s)
                                          FROM generate_series(0, (:big_runs / 100) - 1) AS s)))))
 WHERE id = :big;

UPDATE users SET is_admin = true WHERE id = :owner;

INSERT INTO workers (name, host, started_at, last_beat, held, slots, queues)
SELECT 'host-' || w || '\:1', 'host-' || w, now(), now() + interval '1 hour', 8, 8,
       '["simulations"]'::jsonb
  FROM generate_series(1, 20) AS w;

INSERT INTO run_logs (run_id, seq, at, stream, message)
SELECT :logged, n, timestamptz '2027-01-01' + n * interval '1 ms', 'stdout',
       'step ' || n || ' residual ' || (1.0 / n)
  FROM generate_series(1, :log_lines) AS n
"""



def assets_gzipped() -> int:
    """Bytes of the dashboard's own JS and CSS, gzipped (the vendored files apart)."""
    static = Path(dashboard.__file__).parent / "static"
    return sum(len(gzip.compress(path.read_bytes())) for path in static.iterdir()
               if path.suffix in (".js", ".css"))


def download(client: Any, path: str) -> tuple[float, float, int]:
    """Milliseconds to a streamed download's first bytes and to its end, and its size
    (medians of three downloads)."""
    firsts, wholes, size = [], [], 0
    for _ in range(3):
        started = time.perf_counter()
        response = client.get(path, buffered=False)
        assert response.status_code == 200, (path, response.status_code)
        chunks = iter(response.response)
        size = len(next(chunks))
        firsts.append((time.perf_counter() - started) * 1000)
        size += sum(len(chunk) for chunk in chunks)
        wholes.append((time.perf_counter() - started) * 1000)
        response.close()
    return sorted(firsts)[1], sorted(wholes)[1], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    big_runs = min(100_000, args.runs // 10)
    jobs = 999
    per_job = max(1, (args.runs - big_runs) // jobs)
    url = scratch_database("simdock_bench_dashboard")
    try:
        os.environ.update(DATABASE_URL=url, ARTIFACTS_PATH=tempfile.mkdtemp(),
                          DISPATCH="database", LOG_LEVEL="WARNING")
        app = create_app(Settings())
        client = app.test_client()
        owner = client.post("/api/v1/auth/register", json={
            "email": EMAIL, "password": PASSWORD}).get_json()["id"]
        token = client.post("/api/v1/auth/login", json={
            "email": EMAIL, "password": PASSWORD}).get_json()["access_token"]
        engine = make_engine(url)
        started = time.perf_counter()
        with engine.begin() as connection:
            for statement in FILL.split(";\n\n"):
                connection.execute(sa.text(statement), {
                    "jobs": jobs, "per_job": per_job, "owner": owner, "big": BIG,
                    "big_runs": big_runs, "logged": LOGGED, "log_lines": 100_000})
        engine.dispose()
        settle(url)
        total = jobs * per_job + big_runs
        print(f"{total} runs in {jobs + 1} jobs (one of {big_runs} runs), a run of 100000 "
              f"log lines; filled in {time.perf_counter() - started:.1f} s")
        signed = client.post("/ui/sign-in", data={"email": EMAIL, "password": PASSWORD})
        assert signed.status_code == 303, signed.text

        def page(path: str) -> Callable[[], Any]:
            def get() -> Any:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                response.get_data()  # a stream's body is made as it is read: all of it
                response.close()  # as a server does: a stream gives its slot back
                return response
            return get

        def following(path: str, pages: int) -> str:
            for _ in range(pages):
                found = re.search(r'href="([^"]+)" rel="next"', client.get(path).text)
                assert found is not None, path
                path = found.group(1).replace("&amp;", "&")
            return path

        baseline_run = f"/api/v1/jobs/{LOGGED}"
        bearer = {"Authorization": f"Bearer {token}"}
        base50, base95 = timed(args.samples, lambda: client.get(baseline_run, headers=bearer))
        deep_jobs = following("/ui/jobs", 19)
        deep_runs = following(f"/ui/jobs/{BIG}", 3)
        print(f"  machine: {machine()}")
        print(f"  {'page':<44} {'p50 ms':>8} {'p95 ms':>8}  target p95 < 100 ms")
        print(f"  {'GET /api/v1/jobs/{id} (baseline)':<44} {base50:8.2f} {base95:8.2f}")
        for label, path in (
                ("jobs, first page", "/ui/jobs"),
                ("jobs, filtered (status failed, tag)", "/ui/jobs?status=failed&tag=batch-3"),
                ("jobs, page 20 by keyset", deep_jobs),
                ("jobs, live table refresh", "/ui/jobs/table"),
                (f"the {big_runs}-run sweep", f"/ui/jobs/{BIG}"),
                ("  its runs, page 4 by keyset", deep_runs),
                ("  its runs, filtered (queued)", f"/ui/jobs/{BIG}?status=queued"),
                ("  its plot aggregate", f"/ui/jobs/{BIG}/plot.json?x=rate"),
                ("a run of 100000 log lines", f"/ui/runs/{LOGGED}"),
                ("  its log from line 50000", f"/ui/runs/{LOGGED}?after=50000"),
                ("  its log searched", f"/ui/runs/{LOGGED}?q=residual+0.00001"),
                ("  its log followed (events, line 99000 on)",
                 f"/ui/runs/{LOGGED}/log/events?after=99000"),
                ("workers and queues", "/ui/workers"),
                ("API tokens", "/ui/tokens")):
            p50, p95 = timed(args.samples, page(path))
            print(f"  {label:<44} {p50:8.2f} {p95:8.2f}  "
                  f"{'met' if p95 < 100 else 'MISSED'} ({p95 / base95:.1f}x baseline)")
        first, whole, sent = download(client, f"/ui/jobs/{BIG}/results.zip")
        print(f"  {f'the {big_runs}-run sweep results archive':<44} first bytes after "
              f"{first:.0f} ms, whole in {whole / 1000:.1f} s ({sent / 1e6:.1f} MB), "
              f"median of 3")
        size = assets_gzipped()
        print(f"  the dashboard's own JS and CSS, gzipped: {size} bytes (target < 150 kB: "
              f"{'met' if size < 150_000 else 'MISSED'})")
    finally:
        drop(url)


if __name__ == "__main__":
    main()
