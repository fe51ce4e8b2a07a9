"""Outages are logged once when they start, in summaries, once when they end, as JSON.

Real ``simdock serve`` and ``simdock worker`` processes, with PostgreSQL and
Redis behind TCP proxies of the test's own (the shared servers are never
stopped):

- both proxies cut for 10 s while clients keep asking (hundreds of requests
  answered 503) and a sweep is being executed;
- Redis hung for 12 s (connections accepted, nothing answered) while a user
  submits jobs.

Each fault is a handful of lines, not one per request, message or retry; every
line the worker writes on stderr, Dramatiq's own included, is one JSON object;
submissions answer at once while Redis hangs, and their runs are executed once
it answers again.

Seen before: a database outage of 70 s wrote 3,575 warnings (one per request
answered 503), Dramatiq's consumers wrote a plain-text traceback for every retry
(1,123 lines for a hung Redis), and each submission waited 5 s for the hung
Redis, holding a server thread.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.brokers import queue_prefix, require_redis
from tests.databases import PG_HOST, PG_PORT, migrated_postgres
from tests.e2e.helpers import SECRET_KEY, User, register_and_login
from tests.e2e.servers import SIMDOCK, running_server
from tests.proxy import TcpProxy
from tests.stalling_proxy import StallingProxy

OUTAGE_SECONDS = 10.0


def entries(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The JSON objects of a log file, and its lines that are not one."""
    parsed, other = [], []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            other.append(line)
    return parsed, other


@contextmanager
def worker(env: dict[str, str], stderr: Path) -> Iterator[subprocess.Popen[bytes]]:
    with stderr.open("w") as errors:
        process = subprocess.Popen([str(SIMDOCK), "worker", "--concurrency", "2"],
                                   env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                   stderr=errors, start_new_session=True)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(30)


def succeeded(user: User) -> int:
    answer = user.get("/api/v1/jobs/stats")
    return int(answer.json()["counts"].get("succeeded", 0)) if answer.ok else 0


def faults_of(logged: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each fault kind's lines, by state (started, continues, ended)."""
    kinds: dict[str, list[str]] = {}
    for entry in logged:
        if "fault" in entry:
            kinds.setdefault(entry["fault"], []).append(entry["fault_state"])
    return kinds


def test_an_outage_of_database_and_broker_is_a_few_json_lines_per_fault(tmp_path: Path
                                                                         ) -> None:
    redis_url = require_redis()
    database = migrated_postgres("fault_logs")
    with TcpProxy((PG_HOST, PG_PORT)) as pg, TcpProxy(("127.0.0.1", 6379)) as redis:
        env = {"DATABASE_URL": database.replace(f"{PG_HOST}:{PG_PORT}",
                                                f"127.0.0.1:{pg.port}"),
               "REDIS_URL": redis_url.replace("6379", str(redis.port)),
               "BROKER_QUEUE_PREFIX": queue_prefix(), "SECRET_KEY": SECRET_KEY,
               "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "LOG_LEVEL": "INFO",
               "HEARTBEAT_SECONDS": "0.5"}
        with running_server(tmp_path, **env) as base, \
                worker(env, tmp_path / "worker.err"):
            user = register_and_login(base)
            sweep = user.post("/api/v1/jobs", json={
                "simulation_type": "sleep",
                "sweep": [{"seconds": 0.05 + i / 100_000} for i in range(300)]})
            assert sweep.status_code == 201, sweep.text
            deadline = time.monotonic() + 60
            while succeeded(user) < 20:  # the worker is up and working through it
                assert time.monotonic() < deadline, (tmp_path / "worker.err").read_text()
                time.sleep(0.2)
            answers: dict[int | str, int] = {}
            stop = threading.Event()

            def ask() -> None:
                while not stop.is_set():
                    for path in ("/api/v1/jobs?size=5", "/health"):
                        try:
                            status: int | str = user.get(path, timeout=10).status_code
                        except OSError as exc:
                            status = type(exc).__name__
                        answers[status] = answers.get(status, 0) + 1
                    time.sleep(0.02)

            askers = [threading.Thread(target=ask, daemon=True) for _ in range(4)]
            for asker in askers:
                asker.start()
            time.sleep(1.0)
            with pg.down(), redis.down():
                time.sleep(OUTAGE_SECONDS)
            deadline = time.monotonic() + 120
            while succeeded(user) < 300:
                assert time.monotonic() < deadline, (tmp_path / "worker.err").read_text()[-3000:]
                time.sleep(0.5)
            stop.set()
            for asker in askers:
                asker.join(15)
            # a fault only seen as failures (requests answered 503) ends once it has not
            # happened for a while: wait for the server's line saying so
            deadline = time.monotonic() + 40
            while "ended" not in faults_of(entries(tmp_path / "server.log")[0]).get(
                    "the database is unavailable", []):
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
                time.sleep(0.5)

    server, _ = entries(tmp_path / "server.log")
    problems = [e for e in server if e["level"] in ("warning", "error", "critical")
                and e["logger"] != "simdock.http.access"]
    print(f"answers {answers}; server: {len(problems)} warnings, faults "
          f"{faults_of(server)}")
    assert answers.get(503, 0) >= 100  # the outage was seen, many times over
    database_fault = faults_of(server)["the database is unavailable"]
    assert database_fault[0] == "started" and database_fault[-1] == "ended"
    assert len(problems) <= 12, [e["message"][:120] for e in problems]

    logged, not_json = entries(tmp_path / "worker.err")
    assert not_json == [], not_json[:20]
    worker_problems = [e for e in logged if e["level"] in ("warning", "error", "critical")]
    print(f"worker: {len(worker_problems)} warnings, faults {faults_of(logged)}")
    assert any(e["logger"].startswith("dramatiq") for e in worker_problems)
    assert len(worker_problems) <= 20, [e["message"][:120] for e in worker_problems]


def test_submissions_answer_at_once_while_redis_hangs_and_their_runs_execute_after(
        tmp_path: Path) -> None:
    redis_url = require_redis()
    with StallingProxy(("127.0.0.1", 6379)) as redis:
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'simdock.db'}",
               "REDIS_URL": redis_url.replace("6379", str(redis.port)),
               "BROKER_QUEUE_PREFIX": queue_prefix(), "SECRET_KEY": SECRET_KEY,
               "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "LOG_LEVEL": "INFO",
               "HEARTBEAT_SECONDS": "0.5", "WEB_THREADS": "4"}
        with running_server(tmp_path, **env) as base, \
                worker(env, tmp_path / "worker.err"):
            user = register_and_login(base)
            first = user.post("/api/v1/jobs", json={"simulation_type": "noop",
                                                    "params": {"n": 0}})
            assert first.status_code == 201, first.text
            latencies, ids = [], []
            with redis.stalled():
                hung = time.monotonic()
                while time.monotonic() - hung < 12 or len(ids) < 12:
                    started = time.monotonic()
                    answer = user.post("/api/v1/jobs", json={"simulation_type": "noop",
                                                             "params": {"n": len(ids) + 1}})
                    latencies.append(time.monotonic() - started)
                    assert answer.status_code == 201, answer.text
                    ids.append(answer.json()["jobs"][0])
                    time.sleep(0.5)
            print(f"{len(latencies)} submissions while Redis hung: median "
                  f"{statistics.median(latencies) * 1000:.0f} ms, max "
                  f"{max(latencies) * 1000:.0f} ms")
            assert max(latencies) < 1.0
            back = time.monotonic()
            for job_id in ids:
                while (status := user.get(f"/api/v1/jobs/{job_id}").json()["status"]) \
                        != "succeeded":
                    assert status in ("queued", "running"), status
                    assert time.monotonic() - back < 60, status
                    time.sleep(0.2)
            print(f"all {len(ids)} runs done {time.monotonic() - back:.1f} s after Redis "
                  "answered again")

    logged, not_json = entries(tmp_path / "worker.err")
    assert not_json == [], not_json[:20]
    worker_problems = [e for e in logged if e["level"] in ("warning", "error", "critical")]
    print(f"worker: {len(worker_problems)} warnings, faults {faults_of(logged)}")
    assert len(worker_problems) <= 12, [e["message"][:120] for e in worker_problems]
    server, _ = entries(tmp_path / "server.log")
    server_problems = [e for e in server if e["level"] in ("warning", "error", "critical")
                       and e["logger"] != "simdock.http.access"]
    assert len(server_problems) <= 6, [e["message"][:120] for e in server_problems]
