"""Throughput and latency of the Epistemix routes under gunicorn, against a bare Flask endpoint.

Serves simdock (gunicorn, threaded workers, PostgreSQL, the local blob store, runs
left queued so that the server only serves) and, in the same run and the same way,
a bare Flask app returning a constant; loads each with wrk three times per endpoint
(the database vacuumed, analyzed and checkpointed before each endpoint, so that none
pays for the rows the one before it inserted) and prints the medians of requests per
second, p50 and p99 latency, and each rate as a fraction of the bare one's (each run is
paired with one on the bare endpoint just before it, and the ratio is the median of the
pairs'). Targets:
``POST /jobs/register`` and ``GET /runs`` of a 10-run job at least 0.3 of the bare
endpoint's rate.

Beside them it serves, the same way and on the same database, the least a Flask app can
do to answer those two endpoints (``benchmarks.minimal_epistemix``: no authentication,
no validation, one statement per request), and prints what share of that ceiling
simdock reaches.

    python -m benchmarks.bench_epistemix [--seconds 10] [--connections 16] [--workers 2]
                                         [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import requests

from benchmarks.bench_http import (
    BIN,
    api_token,
    bare_server,
    free_port,
    paired,
    wait_for,
)
from benchmarks.measure import machine, median
from benchmarks.pg import drop, scratch_database, settle

HEADERS = {"content-type": "application/json", "fredcli-version": "0.4.0",
           "user-agent": "epx_client_1.2.2"}
RUN_REQUEST = {"workingDir": "/w", "size": "hot", "fredVersion": "latest",
               "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
               "fredArgs": [{"flag": "-p", "value": "main.fred"},
                            {"flag": "-s", "value": "1"}], "fredFiles": []}
POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["content-type"] = "application/json"
wrk.headers["fredcli-version"] = "0.4.0"
wrk.headers["Offline-Token"] = "Bearer %s"
"""


def runs_body(job_id: int, count: int) -> str:
    return json.dumps({"runRequests": [{**RUN_REQUEST, "jobId": job_id}] * count})


def prepared_job(base: str, headers: dict[str, str], runs: int) -> int:
    """A registered job with its inputs.zip and ``runs`` runs (left queued)."""
    job_id = requests.post(f"{base}/jobs/register", json={"tags": ["bench"]},
                           headers=headers).json()["id"]
    url = requests.post(f"{base}/jobs", json={"jobId": job_id, "context": "job",
                                              "type": "input"}, headers=headers).json()["url"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.fred", "transmissibility = 0.3\n")
    assert requests.put(url, data=buffer.getvalue()).status_code == 200
    if runs:
        answer = requests.post(f"{base}/runs", data=runs_body(job_id, runs), headers=headers)
        assert answer.status_code == 200, answer.text
    return int(job_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    before = machine()
    if shutil.which("wrk") is None:
        sys.exit("bench_epistemix needs wrk: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp())
    url = scratch_database("simdock_bench_epistemix")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "ARTIFACTS_PATH": str(tmp), "PORT": str(port),
           "WEB_WORKERS": str(args.workers), "WEB_THREADS": str(args.threads),
           "DISPATCH": "database", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([str(BIN / "simdock"), "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with bare_server(args) as bare:
            wait_for(f"{base}/live")
            token = api_token(base)
            headers = {**HEADERS, "Offline-Token": f"Bearer {token}"}
            auth = [item for key, value in headers.items() for item in ("-H", f"{key}: {value}")]
            scripts = {}
            for name, body in (("register", json.dumps({"tags": ["bench"]})),
                               ("runs1", runs_body(prepared_job(base, headers, 0), 1)),
                               ("runs100", runs_body(prepared_job(base, headers, 0), 100))):
                scripts[name] = tmp / f"{name}.lua"
                scripts[name].write_text(POST_SCRIPT % (body, token))
            small, large = prepared_job(base, headers, 10), prepared_job(base, headers, 1000)
            loads = {
                "POST /jobs/register": (f"{base}/jobs/register", "-s", str(scripts["register"])),
                "GET /runs?job_id= (10 runs)": (f"{base}/runs?job_id={small}", *auth),
                "GET /runs?job_id= (1,000 runs)": (f"{base}/runs?job_id={large}", *auth),
                "POST /runs (1 run request)": (f"{base}/runs", "-s", str(scripts["runs1"])),
                "POST /runs (100 run requests)": (f"{base}/runs", "-s", str(scripts["runs100"])),
            }
            results = {}
            for name, (target, *extra) in loads.items():
                settle(url)
                results[name] = paired(args, bare, target, *extra)
            owner = requests.get(f"{base}/api/v1/auth/me",
                                 headers={"Authorization": f"Bearer {token}"}).json()["id"]
            server.terminate()
            server.wait(20)
            ceiling = minimal_ceiling(args, bare, url, owner, scripts["register"], small)
    finally:
        server.terminate()
        server.wait(20)
        drop(url)
        shutil.rmtree(tmp, ignore_errors=True)
    report(results, ceiling, args, before)


def minimal_ceiling(args: argparse.Namespace, bare: str, url: str, owner: str, register: Path,
                    job: int) -> dict[str, dict[str, float]]:
    """Paired figures of ``benchmarks.minimal_epistemix`` (register, and GET /runs of the
    10-run job ``job``), served as simdock is, on simdock's database."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MINIMAL_DATABASE_URL": url, "MINIMAL_OWNER_ID": owner}
    server = subprocess.Popen([str(BIN / "gunicorn"), "-k", "gthread", "-w", str(args.workers),
                               "--threads", str(args.threads), "-b", f"127.0.0.1:{port}",
                               "--no-control-socket", "benchmarks.minimal_epistemix:app"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"{base}/runs?job_id={job}")
        settle(url)
        found = {"POST /jobs/register": paired(args, bare, f"{base}/jobs/register",
                                               "-s", str(register))}
        settle(url)
        found["GET /runs?job_id= (10 runs)"] = paired(args, bare, f"{base}/runs?job_id={job}")
        return found
    finally:
        server.terminate()
        server.wait(20)


def report(results: dict[str, dict[str, float]], ceiling: dict[str, dict[str, float]],
           args: argparse.Namespace, before: str) -> None:
    bare = median([r["bare"] for r in (*results.values(), *ceiling.values())])
    print(f"gunicorn gthread, {args.workers} workers x {args.threads} threads, PostgreSQL; wrk "
          f"-c{args.connections} for {args.seconds} s each, medians of {max(3, args.repeat)}, "
          "each run right after one on the bare endpoint")
    print(f"  machine before: {before}; after: {machine()}")
    print(f"  {'endpoint':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x bare':>7} "
          f"{'bare req/s':>10}")
    for title, rows in (("simdock", results),
                        ("the least a Flask app can do for the same answers "
                         "(benchmarks.minimal_epistemix)", ceiling)):
        print(f"  {title}:")
        for name, r in rows.items():
            note = f"  ({int(r['errors'])} non-2xx)" if r["errors"] else ""
            print(f"  {name:<34} {r['rate']:8.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
                  f"{r['x bare']:7.2f} {r['bare']:10.0f}{note}")
    print(f"  bare Flask constant (baseline), median of every run above: {bare:.0f} req/s")
    for name in ("POST /jobs/register", "GET /runs?job_id= (10 runs)"):
        ratio, least = results[name]["x bare"], ceiling[name]["x bare"]
        print(f"  {name} at {ratio:.2f} of the bare endpoint's rate (target >= 0.3: "
              f"{'met' if ratio >= 0.3 else 'MISSED'}); the minimal app at {least:.2f}, "
              f"so simdock at {ratio / least:.2f} of it")
    print(json.dumps({k: round(v["rate"]) for k, v in results.items()}
                     | {f"minimal {k}": round(v["rate"]) for k, v in ceiling.items()}
                     | {"bare": round(bare)}))


if __name__ == "__main__":
    main()
