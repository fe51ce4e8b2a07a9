"""HTTP throughput and latency of the API under gunicorn, against a bare Flask endpoint.

Serves simdock (gunicorn, threaded workers, PostgreSQL, runs left queued so the
server only serves) and, in the same run and the same way, a bare Flask app
returning a constant; loads each with wrk (install it: apt-get install wrk)
three times per endpoint (the database vacuumed, analyzed and checkpointed
before each endpoint, so that none pays for the rows the one before it inserted),
each run right after one on the bare endpoint, and prints the medians of requests
per second, p50 and p99 latency, and the median of each pair's ratio of simdock's
rate to the bare one's. Targets: a run's status at least 0.5 of the bare rate, the
first page of the run list at least 0.2.

    python -m benchmarks.bench_http [--seconds 10] [--connections 16] [--workers 2]
                                    [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from benchmarks.measure import machine, median
from benchmarks.pg import drop, scratch_database, settle

BIN = Path(sys.executable).parent
POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"simulation_type": "noop", "params": {"x": 1}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, seconds: int, connections: int, *extra: str) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          *extra, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = {q: _ms(re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)", out)) for q in ("50", "99")}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": rate, "p50": latency["50"], "p99": latency["99"],
            "errors": float(errors.group(1)) if errors else 0.0}


def _ms(match: re.Match[str] | None) -> float:
    assert match is not None
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def api_token(base: str) -> str:
    """An API token of a fresh benchmark user of the server at ``base``."""
    requests.post(f"{base}/api/v1/auth/register",
                  json={"email": "bench@example.com", "password": "benchmark-password"})
    access = requests.post(f"{base}/api/v1/auth/login", json={
        "email": "bench@example.com", "password": "benchmark-password"}).json()["access_token"]
    return str(requests.post(f"{base}/api/v1/auth/tokens", json={"name": "bench"},
                             headers={"Authorization": f"Bearer {access}"}).json()["token"])


def paired(args: argparse.Namespace, bare: str, url: str, *extra: str) -> dict[str, float]:
    """wrk's medians on ``url``, each run right after one on the bare endpoint ``bare``:
    ``x bare`` is the median of each pair's ratio, so that what the machine did between
    one measurement and another (it drifts by tens of percent over minutes here) does
    not land on one side of the ratio only."""
    pairs = [(wrk(bare, args.seconds, args.connections),
              wrk(url, args.seconds, args.connections, *extra))
             for _ in range(max(3, args.repeat))]
    return {**{key: median([r[key] for _, r in pairs]) for key in ("rate", "p50", "p99")},
            "errors": sum(r["errors"] for _, r in pairs),
            "bare": median([b["rate"] for b, _ in pairs]),
            "x bare": median([r["rate"] / b["rate"] for b, r in pairs])}


@contextmanager
def bare_server(args: argparse.Namespace) -> Iterator[str]:
    """The bare Flask endpoint returning a constant, served as simdock is: its URL."""
    port = free_port()
    bare = subprocess.Popen([str(BIN / "gunicorn"), "-k", "gthread", "-w", str(args.workers),
                             "--threads", str(args.threads), "-b", f"127.0.0.1:{port}",
                             "--no-control-socket", "benchmarks.bare_app:app"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/constant")
        yield f"http://127.0.0.1:{port}/constant"
    finally:
        bare.terminate()
        bare.wait(20)


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
        sys.exit("bench_http needs wrk: apt-get install wrk")
    results: dict[str, dict[str, float]] = {}
    tmp = Path(tempfile.mkdtemp())
    url = scratch_database("simdock_bench_http")
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
            auth = ["-H", f"Authorization: Bearer {token}"]
            run_id = requests.post(f"{base}/api/v1/jobs", json={"simulation_type": "noop"},
                                   headers={"Authorization": f"Bearer {token}"}
                                   ).json()["jobs"][0]
            script = tmp / "post.lua"
            script.write_text(POST_SCRIPT % token)
            loads = {"GET /api/v1/jobs/{id}": (f"{base}/api/v1/jobs/{run_id}", *auth),
                     "POST /api/v1/jobs": (f"{base}/api/v1/jobs", "-s", str(script)),
                     "GET /api/v1/jobs (page 1 of all)": (f"{base}/api/v1/jobs", *auth)}
            for name, (target, *extra) in loads.items():
                settle(url)
                results[name] = paired(args, bare, target, *extra)
    finally:
        server.terminate()
        server.wait(20)
        drop(url)
        shutil.rmtree(tmp, ignore_errors=True)
    report(results, args, before)


def report(results: dict[str, dict[str, float]], args: argparse.Namespace, before: str
           ) -> None:
    bare = median([r["bare"] for r in results.values()])
    print(f"gunicorn gthread, {args.workers} workers x {args.threads} threads, PostgreSQL; wrk "
          f"-c{args.connections} for {args.seconds} s each, medians of {max(3, args.repeat)}, "
          "each run right after one on the bare endpoint")
    print(f"  machine before: {before}; after: {machine()}")
    print(f"  {'endpoint':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x bare':>7} "
          f"{'bare req/s':>10}")
    for name, r in results.items():
        note = f"  ({int(r['errors'])} non-2xx)" if r["errors"] else ""
        print(f"  {name:<34} {r['rate']:8.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
              f"{r['x bare']:7.2f} {r['bare']:10.0f}{note}")
    print(f"  bare Flask constant (baseline), median of every run above: {bare:.0f} req/s")
    for name, target in (("GET /api/v1/jobs/{id}", 0.5),
                         ("GET /api/v1/jobs (page 1 of all)", 0.2)):
        ratio = results[name]["x bare"]
        print(f"  {name} at {ratio:.2f} of the bare endpoint's rate (target >= {target}: "
              f"{'met' if ratio >= target else 'MISSED'})")
    print(json.dumps({k: round(v["rate"]) for k, v in results.items()} | {"bare": round(bare)}))


if __name__ == "__main__":
    main()
