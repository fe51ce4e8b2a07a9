"""The real epx client (1.2.2) runs its whole FRED workflow against simdock.

Two deployments: the embedded default (``simdock serve`` alone: SQLite, the local blob
store, whose pre-signed links simdock serves itself) and ``simdock serve`` with a
Dramatiq worker on PostgreSQL, Redis and an S3-compatible store (rclone's, which
checks the pre-signed links' signatures). The client runs from its own virtualenv
(``tests/epx/driver.py``); each user's API token is its Offline-Token.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simdock_sim.fred_standin import population
from tests.brokers import queue_prefix, require_redis
from tests.databases import migrated_postgres
from tests.e2e.helpers import SECRET_KEY, User, register_and_login
from tests.e2e.servers import running_server
from tests.epx.client import run_epx
from tests.s3 import ACCESS_KEY, new_bucket, s3_endpoint
from tests.s3 import SECRET_KEY as S3_SECRET

SIMDOCK = Path(sys.executable).parent / "simdock"
LOCATIONS = ["Loving_County_TX", "Jefferson_County_PA"]


@dataclass
class Deployment:
    url: str
    owner: User
    token: str
    other_token: str


def api_token(user: User) -> str:
    created = user.post("/api/v1/auth/tokens", json={"name": "epx"})
    assert created.status_code == 201, created.text
    return str(created.json()["token"])


@pytest.fixture(scope="module", params=["embedded", "workers"])
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Deployment]:
    directory = tmp_path_factory.mktemp(f"epx-{request.param}")
    if request.param == "embedded":
        with running_server(directory, SECRET_KEY=SECRET_KEY) as url:
            yield _deployment(url)
        return
    endpoint = s3_endpoint("rclone")
    settings = {"DATABASE_URL": migrated_postgres("epx_workers"), "REDIS_URL": require_redis(),
                "BROKER_QUEUE_PREFIX": queue_prefix(), "S3_BUCKET_NAME": new_bucket(endpoint),
                "S3_ENDPOINT_URL": endpoint, "S3_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET,
                "SECRET_KEY": SECRET_KEY}
    worker = subprocess.Popen([str(SIMDOCK), "worker", "--concurrency", "2"],
                              env={**os.environ, **settings, "LOG_LEVEL": "WARNING"},
                              start_new_session=True, stderr=subprocess.STDOUT,
                              stdout=(directory / "worker.log").open("w"))
    try:
        with running_server(directory, **settings) as url:
            yield _deployment(url)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)


def _deployment(url: str) -> Deployment:
    owner = register_and_login(url, "fred")
    return Deployment(url, owner, api_token(owner), api_token(register_and_login(url, "other")))


def test_a_two_run_job_executes_to_done_and_its_results_are_the_models_tables(
        deployment: Deployment, tmp_path: Path) -> None:
    seen = run_epx("workflow", deployment.url, deployment.token, tmp_path)
    assert seen["status"] == "DONE"
    assert len(seen["run_ids"]) == 2 and seen["job_id"] in seen["listed"]
    assert seen["latest"] == seen["job_id"]
    assert {row["run_id"] for row in seen["pop_size"]} == set(seen["run_ids"])
    assert {row["pop_size"] for row in seen["pop_size"]} == {population(LOCATIONS)}
    days = {row["sim_day"] for row in seen["infectious"]}
    assert days == set(range(46))  # 2020-01-01 to 2020-02-15, both included
    assert all(row["count"] >= 0 for row in seen["infectious"])
    assert sum(row["new"] for row in seen["new_exposed"]) > 0
    runs = seen["runs"]
    assert [run["status"] for run in runs] == ["DONE", "DONE"]
    assert {run["jobId"] for run in runs} == {seen["job_id"]}
    assert {run["epxClientVersion"] for run in runs} == {"1.2.2"}
    fred_args = [arg["flag"] for arg in runs[0]["request"]["fred_args"]]
    assert fred_args.count("-l") == 2 and "-s" in fred_args and "-o" in fred_args


def test_a_run_that_fails_its_first_attempt_is_retried_by_the_client_and_finishes(
        deployment: Deployment, tmp_path: Path) -> None:
    seen = run_epx("retry", deployment.url, deployment.token, tmp_path)
    assert seen["status"] == "DONE" and len(seen["run_ids"]) == 1
    assert {row["pop_size"] for row in seen["pop_size"]} == {population(LOCATIONS)}


def test_a_running_job_is_stopped_then_deleted_and_another_user_sees_none_of_it(
        deployment: Deployment, tmp_path: Path) -> None:
    stopped = run_epx("stop", deployment.url, deployment.token, tmp_path / "stop")
    assert stopped["status"] == "ERROR", stopped
    assert stopped["stop"].startswith("stopped 1 run")
    levels = {level for level, _ in stopped["logs"]}
    messages = [message for _, message in stopped["logs"]]
    assert levels == {"INFO"}, stopped["logs"]
    assert "not FRED" in messages[0], messages
    assert any(m.startswith("start date 2020-01-01, end date 2020-12-31") for m in messages)
    assert not any(m.startswith("summary") for m in messages)  # it never finished
    job_id = stopped["job_id"]

    peeked = run_epx("peek", deployment.url, deployment.other_token, tmp_path / "peek",
                     job_id=job_id)
    assert peeked["jobs"] == [] and "404" in peeked["runs_error"]
    assert run_epx("delete", deployment.url, deployment.other_token, tmp_path / "del-other",
                   job_id=job_id)["deleted"] is False

    assert run_epx("delete", deployment.url, deployment.token, tmp_path / "delete",
                   job_id=job_id) == {"deleted": True}
    again = run_epx("peek", deployment.url, deployment.token, tmp_path / "peek-own",
                    job_id=job_id)
    assert job_id not in again["jobs"] and "404" in again["runs_error"]


def by_run_and_day(rows: list[dict[str, Any]], column: str) -> dict[tuple[int, int], Any]:
    return {(row["run_id"], row["sim_day"]): row[column] for row in rows}


def test_every_reader_of_a_job_s_and_a_run_s_results_returns_the_model_s_data(
        deployment: Deployment, tmp_path: Path) -> None:
    """Seen before: csv_output, file_output, numeric_var, list_var, list_table_var,
    table_var and network all raised FileNotFoundError: the results held only DAILY/*."""
    seen = run_epx("outputs", deployment.url, deployment.token, tmp_path)
    assert seen["status"] == "DONE" and len(seen["run_ids"]) == 2
    runs, days = set(seen["run_ids"]), range(46)
    keys = [(run, day) for run in runs for day in days]
    infectious = by_run_and_day(seen["infectious"], "count")
    exposed = by_run_and_day(seen["cumulative_E"], "cumulative")
    new_e, new_i = (by_run_and_day(seen[n], "new") for n in ("new_E", "new_I"))
    assert sorted(infectious) == sorted(keys)

    assert by_run_and_day(seen["numeric_var"], "value") == infectious
    weekly = seen["numeric_weekly"]
    assert sorted({row["sim_day"] for row in weekly}) == list(range(0, 46, 7))
    assert {row["run_id"] for row in weekly} == runs

    compartments: dict[tuple[int, int], list[float]] = defaultdict(list)
    for row in seen["list_var"]:
        compartments[row["run_id"], row["sim_day"]].append(row["value"])
    assert sorted(compartments) == sorted(keys)
    assert all(sum(v) == population(LOCATIONS) and v[2] == infectious[k]
               for k, v in compartments.items())
    wide = seen["list_var_wide"]
    assert {c for c in wide[0] if c.startswith("item_")} == {f"item_{i}" for i in range(4)}

    by_age: dict[tuple[int, int], dict[int, float]] = defaultdict(dict)
    for row in seen["table_var"]:
        by_age[row["run_id"], row["sim_day"]][row["key"]] = row["value"]
    assert sorted(by_age) == sorted(keys)
    assert all(sorted(v) == [0, 5, 18, 50, 65] and sum(v.values()) == exposed[k]
               for k, v in by_age.items())

    daily: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in seen["list_table_var"]:
        daily[row["run_id"], row["sim_day"]][row["list_index"]] += row["value"]
    assert all(daily[k] == [new_e[k], new_i[k]] for k in keys)
    assert {"item_0", "item_1", "key"} <= set(seen["list_table_var_wide"][0])

    rows = seen["csv_output"]
    assert {(r["run_id"], r["day"]): r["infectious"] for r in rows} == infectious
    assert rows[0]["date"] == "2020-01-01" and rows[45]["date"] == "2020-02-15"
    assert len(seen["file_output"]) == 2 * 46
    assert all(row["file_output"].startswith("2020.") for row in seen["file_output"])

    for run in runs:  # who exposed whom, by age group
        network, early = seen["network"][str(run)], seen["network_day_10"][str(run)]
        undirected = seen["undirected"][str(run)]
        assert network["kind"] == "DiGraph" and undirected["kind"] == "Graph"
        assert network["nodes"] == early["nodes"] == ["0", "18", "5", "50", "65"]
        assert sum(n for _, _, n in network["edges"]) == exposed[run, 45]
        assert sum(n for _, _, n in early["edges"]) == exposed[run, 10]
        assert sum(n for _, _, n in undirected["edges"]) == exposed[run, 45]

    first = seen["run_ids"][0]
    run_seen = seen["run"]
    assert {r["sim_day"]: r["value"] for r in run_seen["numeric_var"]} == {
        day: infectious[first, day] for day in days}
    assert len(run_seen["list_var"]) == 4 * 46 and len(run_seen["table_var"]) == 5 * 46
    assert len(run_seen["list_table_var"]) == 2 * 5 * 46
    assert len(run_seen["csv_output"]) == len(run_seen["file_output"]) == 46
    assert run_seen["network"] == seen["network"][str(first)]
