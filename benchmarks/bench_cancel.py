"""Cancelling a sweep of 100,000 queued runs over HTTP, against the bare SQL statement.

Serves simdock (runs left queued: nothing executes) on PostgreSQL and on the
SQLite default, submits a noop grid sweep of ``--runs`` variants, and times
``POST /api/v1/simulations/{id}/cancel`` (the whole answer). The baseline,
measured in the same run on an identical sweep in the same database, is one
bare ``UPDATE runs SET status = 'cancelled' ... WHERE job_id = ...`` through
the driver (its counting triggers included): the least any implementation
must do. Target: under a second at 100,000 runs (it was one transaction per
run: 14.5 s for 10,000 runs).

Before each cancel the server first cancels ``WARM`` one-run jobs, as a server that
has been claiming and finishing runs has done on its connections: PostgreSQL keeps a
trigger's plan from its first execution in a session, and a plan made for one row was
once kept for the whole sweep (43 s for 10,000 runs; migration 0013).

    python -m benchmarks.bench_cancel [--runs 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from benchmarks.bench_submit_sweep import server, token
from benchmarks.measure import machine, median, repeated, spread
from benchmarks.pg import drop, scratch_database
from simdock_adapters.sql import make_engine


def submit(base: str, headers: dict[str, str], runs: int) -> str:
    body = json.dumps({"simulation_type": "noop", "params": {"label": "bench"},
                       "grid": {"i": list(range(runs))}})
    answer = requests.post(f"{base}/api/v1/jobs", data=body, headers=headers, timeout=600)
    assert answer.status_code == 201, answer.text[:300]
    return str(answer.json()["simulation_id"])


#: One-run jobs cancelled before each timed cancel (more than the server's connections).
WARM = 12


def cancel_over_http(base: str, headers: dict[str, str], runs: int) -> float:
    for _ in range(WARM):
        single = submit(base, headers, 1)
        requests.post(f"{base}/api/v1/simulations/{single}/cancel", headers=headers,
                      timeout=60).raise_for_status()
    job_id = submit(base, headers, runs)
    started = time.perf_counter()
    answer = requests.post(f"{base}/api/v1/simulations/{job_id}/cancel", headers=headers,
                           timeout=600)
    seconds = time.perf_counter() - started
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["status"] == "cancelled", answer.text[:300]
    return seconds


def bare_update(base: str, headers: dict[str, str], runs: int, url: str) -> float:
    job_id = submit(base, headers, runs)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            started = time.perf_counter()
            connection.execute(sa.text(
                "UPDATE runs SET status = 'cancelled', error = 'cancelled by request', "
                "finished_at = :now, updated_at = :now, lease_expires_at = NULL, "
                "version = version + 1 WHERE job_id = :job AND status IN ('queued', 'running')"),
                {"job": job_id, "now": "2026-01-01 00:00:00+00:00"})
        return time.perf_counter() - started
    finally:
        engine.dispose()


def measure(url: str, directory: Path, runs: int, repeat: int
            ) -> tuple[list[float], list[float]]:
    """The bare UPDATE's seconds and the route's, ``repeat`` times each."""
    with server(url, directory) as base:
        headers = {"Authorization": f"Bearer {token(base)}", "Content-Type": "application/json"}
        bare = repeated(repeat, lambda: bare_update(base, headers, runs, url))
        route = repeated(repeat, lambda: cancel_over_http(base, headers, runs))
    return bare, route


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"cancel a sweep of {args.runs} queued runs over HTTP; {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        databases = {"sqlite (default)": f"sqlite:///{root / 'simdock.db'}",
                     "postgresql": scratch_database("simdock_bench_cancel")}
        try:
            for name, url in databases.items():
                bare, route = measure(url, root / name.split()[0], args.runs, args.repeat)
                ratio = median(route) / median(bare)
                verdict = "met" if median(route) < 1.0 else "MISSED"
                print(f"  {name:<17} cancel {spread(route, ' s')}; bare UPDATE "
                      f"{spread(bare, ' s')}; x{ratio:.2f} of bare; under 1 s: {verdict}")
        finally:
            drop(databases["postgresql"])
    print(f"  after: {machine()}")


if __name__ == "__main__":
    main()
