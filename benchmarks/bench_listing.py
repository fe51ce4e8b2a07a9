"""Listing and counting runs with 1,000,000 runs in PostgreSQL.

Fills a scratch database (1,000 sweeps of 1,000 runs, 10 owners, 5 statuses)
through plain SQL, then times through the SQL repository: page 1 and the last
page of one owner's runs in one status, page 2,000 of all the owner's runs
by number (an offset) and by cursor (``next_cursor``: a keyset seek), and a
status count. Prints p50/p95 next to a primary-key lookup measured the same
way (the floor). Targets: each listing under 20 ms at p95; the count must not
scan the runs table.

    python benchmarks/bench_listing.py [--runs 1000000] [--samples 200]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import sqlalchemy as sa

from benchmarks.measure import machine, timed
from benchmarks.pg import drop, scratch_database
from simdock.domain import RunStatus
from simdock.paging import PageRequest
from simdock.selection import RunQuery
from simdock_adapters.sql import SqlUnitOfWork, make_engine

FILL = """
INSERT INTO jobs (id, owner_id, simulation_type, kind, run_count, metadata, created_at)
SELECT 'job-' || lpad(j::text, 17, '0'), 'usr-' || (j % 10), 'noop', 'sweep', :per_job, '{}',
       timestamptz '2026-01-01' + j * interval '1 minute'
  FROM generate_series(0, :jobs - 1) AS j;

INSERT INTO runs (id, job_id, owner_id, simulation_type, run_index, parameters, status,
                  progress, attempts, created_at, version, metadata)
SELECT 'run-' || lpad((j * :per_job + i)::text, 17, '0'), 'job-' || lpad(j::text, 17, '0'),
       'usr-' || (j % 10), 'noop', i, jsonb_build_object('$inline', jsonb_build_object('i', i)),
       (ARRAY['queued','running','succeeded','failed','cancelled'])[1 + (i % 5)],
       0, 0, timestamptz '2026-01-01' + j * interval '1 minute' + i * interval '1 ms', 0, '{}'
  FROM generate_series(0, :jobs - 1) AS j, generate_series(0, :per_job - 1) AS i;
"""



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    per_job = 1000
    jobs = max(1, args.runs // per_job)
    url = scratch_database("simdock_bench_listing")
    try:
        engine = make_engine(url)
        started = time.perf_counter()
        with engine.begin() as connection:
            for statement in FILL.split(";\n\n"):
                connection.execute(sa.text(statement), {"jobs": jobs, "per_job": per_job})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        filled = time.perf_counter() - started
        print(f"{jobs * per_job} runs in PostgreSQL, filled in {filled:.1f} s")
        owner, status = "usr-3", RunStatus.SUCCEEDED

        def listing(page: int | PageRequest,
                    statuses: frozenset[RunStatus] | None = frozenset({status})
                    ) -> Callable[[], object]:
            request = page if isinstance(page, PageRequest) else PageRequest(page, 50)
            query = RunQuery(owner_id=owner, statuses=statuses, page=request)

            def run() -> object:
                with SqlUnitOfWork(engine) as uow:
                    return uow.runs.list(query)
            return run

        with SqlUnitOfWork(engine) as uow:
            first = uow.runs.list(RunQuery(owner_id=owner, statuses=frozenset({status}),
                                           page=PageRequest(1, 50)))
            last_page = first.total_pages
            some_id = first.items[0].id
            before_2000 = uow.runs.list(RunQuery(owner_id=owner, page=PageRequest(1999, 50)))
            assert before_2000.next is not None
            cursor_2000 = PageRequest.following(before_2000.next, 50)

        def lookup() -> object:
            with SqlUnitOfWork(engine) as uow:
                return uow.runs.get(some_id)

        def count() -> object:
            with SqlUnitOfWork(engine) as uow:
                return uow.runs.counts(owner_id=owner)

        base50, base95 = timed(args.samples, lookup)
        print(f"  machine: {machine()}")
        print(f"  owner {owner}, status {status.value}: {first.total} runs, "
              f"{last_page} pages of 50")
        print(f"  {'query':<34} {'p50 ms':>8} {'p95 ms':>8} {'p95 / lookup':>13}  target")
        print(f"  {'get one run by id (baseline)':<34} {base50:8.2f} {base95:8.2f} {1:13.1f}")
        for label, action, target in (
            ("list page 1", listing(1), 20.0),
            (f"list page {last_page} (the last)", listing(last_page), 20.0),
            ("list page 2000 of all the owner's", listing(2000, None), 20.0),
            ("  the same page by cursor", listing(cursor_2000, None), 20.0),
            ("count runs by status", count, None),
        ):
            p50, p95 = timed(args.samples, action)
            verdict = "" if target is None else (
                f"< {target:.0f} ms: {'met' if p95 < target else 'MISSED'}")
            print(f"  {label:<34} {p50:8.2f} {p95:8.2f} {p95 / base95:13.1f}  {verdict}")
        with engine.connect() as connection:
            plan = connection.exec_driver_sql(
                "EXPLAIN SELECT status, sum(delta) FROM run_status_counts "
                "WHERE owner_id = 'usr-3' GROUP BY status").scalars().all()
        print("  count plan: " + " | ".join(line.strip() for line in plan[:3]))
        engine.dispose()
    finally:
        drop(url)


if __name__ == "__main__":
    main()
