"""A broker that is down at submit time loses nothing, and health says so.

The submission commits and answers; the runs stay queued in the database; a
worker that consumes the broker once it is reachable finds them and executes
them. /health reports the broker as unhealthy meanwhile.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import simdock
from simdock.domain import RunStatus
from simdock.errors import ServiceUnavailable
from simdock_adapters.dispatch.broker import BrokerDispatcher
from simdock_adapters.http import create_app
from simdock_adapters.settings import Settings
from tests.brokers import delete_queues, queue_prefix, require_rabbitmq, require_redis


def nobody_listens() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("url", [f"redis://127.0.0.1:{nobody_listens()}/0",
                                 f"amqp://guest:guest@127.0.0.1:{nobody_listens()}/%2F"],
                         ids=["redis", "rabbitmq"])
def test_an_unreachable_broker_fails_its_check_and_dispatch_does_not_raise(url: str) -> None:
    dispatcher = BrokerDispatcher(url, queue_prefix=queue_prefix())
    with pytest.raises(ServiceUnavailable, match="the broker cannot be reached"):
        dispatcher.check()
    dispatcher.dispatch_runs(["run-1", "run-2"])
    dispatcher.dispatch_report("rpt-1")


@pytest.mark.parametrize("kind", ["redis", "rabbitmq"])
def test_runs_submitted_while_the_broker_is_down_are_done_once_a_worker_consumes(
        kind: str, tmp_path: Path) -> None:
    live = require_redis() if kind == "redis" else require_rabbitmq()
    dead = (f"redis://127.0.0.1:{nobody_listens()}/0" if kind == "redis"
            else f"amqp://guest:guest@127.0.0.1:{nobody_listens()}/%2F")
    prefix = queue_prefix()
    common = {"database_url": f"sqlite:///{tmp_path}/simdock.db",
              "artifacts_path": str(tmp_path / "artifacts"), "broker_queue_prefix": prefix,
              "heartbeat_seconds": 0.2}
    key = f"{kind}_url"
    with simdock.connect(**common, **{key: dead}) as submitter:
        sweep = submitter.sweep("noop", grid={"i": list(range(30))})
        assert submitter.statistics()["queued"] == 30

        settings = Settings(**common, **{key: dead})
        health = create_app(settings).test_client().get("/health")
        assert health.status_code == 503
        assert health.get_json()["services"]["broker"] == "unhealthy"

        from simdock_adapters.bootstrap import build_platform

        worker = build_platform(Settings(**common, **{key: live}), consume=True)
        try:
            assert sweep.wait(timeout=60).status == "succeeded"
            healthy = create_app(Settings(**common, **{key: live})).test_client().get(
                "/health")
            assert healthy.get_json()["services"]["broker"] == "healthy"
        finally:
            worker.close()
            delete_queues(worker.dispatcher.broker, worker.dispatcher.queues)  # type: ignore[attr-defined]
        with submitter.platform.uow() as uow:
            runs = uow.runs.for_job(sweep.id)
    assert {r.status for r in runs} == {RunStatus.SUCCEEDED}


@pytest.mark.parametrize("kind", ["redis", "rabbitmq"])
def test_a_report_asked_for_while_the_broker_is_down_is_generated_once_a_worker_consumes(
        kind: str, tmp_path: Path) -> None:
    # Seen before: its message was lost and it stayed queued for good; only runs were
    # woken by the workers' beat.
    live = require_redis() if kind == "redis" else require_rabbitmq()
    dead = (f"redis://127.0.0.1:{nobody_listens()}/0" if kind == "redis"
            else f"amqp://guest:guest@127.0.0.1:{nobody_listens()}/%2F")
    common = {"database_url": f"sqlite:///{tmp_path}/simdock.db",
              "artifacts_path": str(tmp_path / "artifacts"),
              "broker_queue_prefix": queue_prefix(), "heartbeat_seconds": 0.2}
    key = f"{kind}_url"
    from simdock_adapters.bootstrap import build_platform

    worker = build_platform(Settings(**common, **{key: live}), consume=True)
    try:
        with simdock.connect(**common, **{key: dead}) as submitter:
            job = submitter.submit("noop", {"n": 1})
            assert job.wait(timeout=60).status == "succeeded"
            report = submitter.report("summary", [job])
            assert report.status == "queued"
            assert report.wait(timeout=60).status == "succeeded"
    finally:
        worker.close()
        delete_queues(worker.dispatcher.broker, worker.dispatcher.queues)  # type: ignore[attr-defined]
