"""Submitting again a 10,000-run sweep whose runs all exist: reused, nothing executed.

On the embedded default (SQLite) and on PostgreSQL, in this process (runs on its
threads), a versioned handler (``Square``: a result and one file per run). The
baseline, measured in the same run on the same database: the first submission
of the sweep, until every run has executed. Then the same sweep ``--repeat``
times again, each until it is finished, and once with one axis value changed.
Prints seconds, runs executed and the bytes the store grew by per run (the
database's pages in use, or pg_database_size; the blob store's files).
Targets: the resubmission under 2 s with zero executions and constant bytes per
run; the changed value reruns only its runs.

    python -m benchmarks.bench_reuse [--runs 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

import simdock
from benchmarks.handlers import Square
from benchmarks.measure import machine, median, spread
from benchmarks.pg import drop, scratch_database
from simdock_adapters.sql import make_engine


def store_bytes(url: str, root: Path) -> Callable[[], int]:
    """How many bytes the database and the blob store hold now."""
    blobs = root / "blobs"

    def files(path: Path) -> int:
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) \
            if path.exists() else 0

    engine = make_engine(url)
    # SQLite: the pages in use as a reader sees them, write-ahead log included (its files
    # are preallocated, so their sizes say little).
    statement = sa.text("SELECT pg_database_size(current_database())") \
        if engine.dialect.name == "postgresql" else sa.text(
            "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), "
            "pragma_freelist_count(), pragma_page_size()")

    def measured() -> int:
        with engine.connect() as connection:
            return int(connection.execute(statement).scalar_one()) + files(blobs)

    return measured


def submit(dock: simdock.Dock, xs: list[int], ys: list[int]) -> tuple[float, int, int]:
    """Seconds until the sweep finished, runs executed, runs in it."""
    started = time.perf_counter()
    sweep = dock.sweep("square", grid={"x": xs, "y": ys})
    sweep.wait(timeout=1800, progress=False)
    seconds = time.perf_counter() - started
    runs = sweep.runs()
    assert all(run.status.value == "succeeded" for run in runs)
    return seconds, sum(1 for run in runs if run.attempts), len(runs)


def measure(name: str, url: str, root: Path, runs: int, repeat: int) -> None:
    xs, ys = list(range(runs // 100)), list(range(100))
    size = store_bytes(url, root)
    with simdock.connect(url, artifacts_path=str(root / "blobs"), handler_isolation="thread",
                         executor_workers=2) as dock:
        dock.register_handler("square", Square())
        before = size()
        first, executed, total = submit(dock, xs, ys)
        grown = size() - before
        print(f"  {name:<17} first submission {first:.3f} s, {executed} of {total} runs "
              f"executed, {grown / total:.0f} bytes a run")
        seconds, per_run = [], []
        for _ in range(max(3, repeat)):
            before = size()
            took, executed, total = submit(dock, xs, ys)
            seconds.append(took)
            per_run.append((size() - before) / total)
            assert executed == 0, f"{executed} runs executed again"
        verdict = "met" if median(seconds) < 2.0 else "MISSED"
        print(f"  {name:<17} submitted again  {spread(seconds, ' s')}, 0 of {total} runs "
              f"executed, {spread(per_run, ' bytes a run', 0)}; x{median(seconds) / first:.3f}"
              f" of the first; under 2 s: {verdict}")
        changed = [*xs[:-1], xs[-1] + 1000]
        took, executed, total = submit(dock, changed, ys)
        print(f"  {name:<17} one x changed    {took:.3f} s, {executed} of {total} runs "
              f"executed (the value touches {len(ys)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"reuse: a {args.runs}-run sweep submitted again; {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        postgres = scratch_database("simdock_bench_reuse")
        try:
            for name, url in (("sqlite (default)", f"sqlite:///{root / 'sqlite' / 'simdock.db'}"),
                              ("postgresql", postgres)):
                (root / name.split()[0]).mkdir(exist_ok=True)
                measure(name, url, root / name.split()[0], args.runs, args.repeat)
        finally:
            drop(postgres)
    print(f"  after: {machine()}")


if __name__ == "__main__":
    main()
