"""Submitting a 100,000-variant grid sweep over HTTP: time, storage written, answer size.

Serves simdock (runs left queued: nothing executes) on PostgreSQL, on the SQLite
default and, as the baseline measured in the same run, on the memory store
(the cost of HTTP, validation and ids alone), and POSTs to /api/v1/jobs a grid of
``--variants`` values over a small base. Prints, as medians of ``--repeat``
submissions: seconds, bytes the database grew by (PostgreSQL: pg_database_size;
SQLite: the database and write-ahead log files), bytes written to the blob
store, and the answer's size. Targets: under 3 s on PostgreSQL; under 5 MB of
storage beyond the request for a small base.

    python -m benchmarks.bench_submit_sweep [--variants 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import sqlalchemy as sa

from benchmarks.measure import machine, median, repeated, spread
from benchmarks.pg import drop, scratch_database
from simdock_adapters.sql import make_engine

BIN = Path(sys.executable).parent
MB = 1024 * 1024


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(database_url: str, directory: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "ARTIFACTS_PATH": str(directory / "blobs"),
           "PORT": str(port), "WEB_WORKERS": "1", "DISPATCH": "database", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([str(BIN / "simdock"), "serve"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/live", timeout=1)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "simdock serve did not start"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def token(base: str) -> str:
    account = {"email": "bench@example.com", "password": "benchmark-password"}
    requests.post(f"{base}/api/v1/auth/register", json=account, timeout=30)
    login = requests.post(f"{base}/api/v1/auth/login", json=account, timeout=30)
    return str(login.json()["access_token"])


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def measure(base: str, body: bytes, database_bytes: Callable[[], int], blobs: Path
            ) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token(base)}", "Content-Type": "application/json"}
    db_before, blobs_before = database_bytes(), directory_bytes(blobs)
    started = time.perf_counter()
    answer = requests.post(f"{base}/api/v1/jobs", data=body, headers=headers, timeout=600)
    seconds = time.perf_counter() - started
    assert answer.status_code == 201, answer.text[:300]
    return {"seconds": seconds, "database": database_bytes() - db_before,
            "blobs": directory_bytes(blobs) - blobs_before, "answer": len(answer.content)}


def postgres_size(url: str) -> Callable[[], int]:
    engine = make_engine(url)

    def size() -> int:
        with engine.connect() as connection:
            connection.exec_driver_sql("CHECKPOINT")
            return int(connection.execute(sa.text("SELECT pg_database_size(current_database())"))
                       .scalar_one())

    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    body = json.dumps({"simulation_type": "noop", "params": {"length": 1.0, "label": "bench"},
                       "grid": {"i": list(range(args.variants))}}).encode()
    print(f"submit a grid sweep of {args.variants} variants over HTTP ({len(body) / MB:.2f} MB "
          f"request); {machine()}")
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with server("memory://", root / "memory") as base:
            results["memory (baseline)"] = repeated(
                args.repeat, lambda: measure(base, body, lambda: 0, root / "memory" / "blobs"))
        sqlite_file = root / "sqlite" / "simdock.db"
        sqlite_file.parent.mkdir()
        with server(f"sqlite:///{sqlite_file}", root / "sqlite") as base:
            def sqlite_bytes() -> int:
                return sum(p.stat().st_size for p in sqlite_file.parent.glob("simdock.db*"))

            results["sqlite (default)"] = repeated(
                args.repeat, lambda: measure(base, body, sqlite_bytes, root / "sqlite" / "blobs"))
        url = scratch_database("simdock_bench_submit")
        try:
            with server(url, root / "postgresql") as base:
                results["postgresql"] = repeated(args.repeat, lambda: measure(
                    base, body, postgres_size(url), root / "postgresql" / "blobs"))
        finally:
            drop(url)
    baseline = median([r["seconds"] for r in results["memory (baseline)"]])
    for name, runs in results.items():
        seconds = [r["seconds"] for r in runs]
        stored = median([r["database"] + r["blobs"] for r in runs])
        print(f"  {name:<18} {spread(seconds, ' s')}  x{median(seconds) / baseline:.2f} of "
              f"memory; database +{median([r['database'] for r in runs]) / MB:.1f} MB, blobs "
              f"+{median([r['blobs'] for r in runs]) / MB:.2f} MB "
              f"({stored / args.variants:.0f} bytes per run); answer "
              f"{median([r['answer'] for r in runs]) / MB:.2f} MB")
    postgres = median([r["seconds"] for r in results["postgresql"]])
    print(f"  targets: PostgreSQL under 3 s: {'met' if postgres < 3 else 'MISSED'} "
          f"({postgres:.2f} s); storage under 5 MB beyond the request: see the bytes per run "
          f"above (one row and its index entries per run)")
    print(f"  after: {machine()}")


if __name__ == "__main__":
    main()
