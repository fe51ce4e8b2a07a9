"""Replicated jobs through the core, on fakes: the first replicates, batches added as points
decide, a point's outcome and why, seeds reproducible, and what refuses a replication."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from simdock.domain import JobKind, RunStatus, SweepSpec
from simdock.domain.replication import Outcome, Replication, replicate_seed
from simdock.errors import LimitExceeded, ValidationError
from simdock.ports import RunContext
from simdock.usecases.submit import Submit, SubmitRun, SubmitSweep
from tests.unit.fakes import FakeExecutor, QueueDispatcher, make_platform


def noisy(parameters: Any, context: RunContext) -> dict[str, Any]:
    """A mean of ``mu`` with noise of ``sigma``, drawn from the run's seed."""
    rng = np.random.default_rng(parameters["seed"])
    if parameters.get("broken"):
        raise RuntimeError("this point always fails")
    value = parameters["mu"] + parameters.get("sigma", 1.0) * rng.standard_normal()
    return {"y": value} if not parameters.get("unnamed") else {"z": value}


def replicated(replication: Replication, grid: dict[str, list[Any]],
               base: dict[str, Any] | None = None, seed: int | None = 11) -> tuple[Any, str]:
    executor = FakeExecutor({"noisy": noisy})
    executor.seeds["noisy"] = "seed"
    platform = make_platform(executor)
    job = platform.submitting.submit_sweep(SubmitSweep(
        "usr-1", "noisy", SweepSpec(grid=grid, base=base or {}), replicate=replication,
        seed=seed)).job
    return platform, job.id


def drained(platform: Any) -> None:
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()


def test_each_point_gets_batches_until_its_interval_is_narrow_enough() -> None:
    rule = Replication("y", half_width=0.25, min=4, max=400, batch=8)
    platform, job_id = replicated(rule, {"mu": [1.0, 5.0]}, {"sigma": 1.0})
    view = platform.queries.get_job(job_id, "usr-1")
    assert view.job.kind is JobKind.SWEEP and view.job.run_count == 8  # 2 points x min 4

    drained(platform)

    points = platform.replicating.points(job_id, "usr-1")
    assert [p.parameters for p in points] == [{"sigma": 1.0, "mu": 1.0},
                                              {"sigma": 1.0, "mu": 5.0}]
    for point, mu in zip(points, (1.0, 5.0), strict=True):
        summary = point.state.summary(rule)
        assert summary.outcome is Outcome.MET and summary.met
        assert summary.half_width is not None and summary.half_width <= 0.25
        assert summary.n == point.state.planned == point.state.finished
        assert (summary.n - 4) % 8 == 0 and summary.n > 4  # the minimum, then whole batches
        assert summary.low is not None and summary.high is not None
        assert abs(summary.mean - mu) < 1.0
    view = platform.queries.get_job(job_id, "usr-1")
    total = sum(p.state.planned for p in points)
    assert view.job.run_count == total and view.counts == {RunStatus.SUCCEEDED: total}


def test_replicates_take_seeds_derived_from_the_jobs_seed() -> None:
    rule = Replication("y", half_width=100.0, min=3)
    platform, job_id = replicated(rule, {"mu": [0.0, 1.0]}, seed=2024)
    drained(platform)
    spec = platform.queries.job_spec(job_id)
    executor = platform.executor
    seeds = {task.parameters["seed"] for task in executor.tasks}
    assert seeds == {replicate_seed(2024, point, replicate)
                     for point in range(2) for replicate in range(3)}
    assert spec.parameters(spec.index_of(1, 2)) == {"mu": 1.0,
                                                    "seed": replicate_seed(2024, 1, 2)}


def test_a_point_stops_at_max_others_go_on_and_each_says_why() -> None:
    rule = Replication("y", half_width=0.05, min=3, max=7, batch=2)
    platform, job_id = replicated(rule, {"mu": [0.0], "sigma": [10.0, 0.0001]})
    drained(platform)
    wide, narrow = (p.state for p in platform.replicating.points(job_id, "usr-1"))
    assert (wide.outcome, wide.planned) == (Outcome.MAX_REACHED, 7)
    assert wide.reason is not None and wide.reason.startswith("max (7) replicates reached")
    assert (narrow.outcome, narrow.planned) == (Outcome.MET, 3)


def test_a_failed_replicate_or_a_missing_metric_stops_only_its_point() -> None:
    rule = Replication("y", half_width=0.5, min=3, batch=4)
    platform, job_id = replicated(rule, {"mu": [1.0], "broken": [False, True]})
    drained(platform)
    good, broken = (p.state for p in platform.replicating.points(job_id, "usr-1"))
    assert good.outcome is Outcome.MET
    assert (broken.outcome, broken.reason, broken.planned) == (
        Outcome.RUNS_FAILED, "3 replicates failed", 3)

    rule = Replication("y", half_width=0.5, min=3)
    platform, job_id = replicated(rule, {"mu": [1.0]}, {"unnamed": True})
    drained(platform)
    [point] = platform.replicating.points(job_id, "usr-1")
    assert (point.state.outcome, point.state.reason) == (
        Outcome.METRIC_MISSING, "3 replicate results lack a number under 'y'")


def test_retrying_a_failed_replicate_counts_it_again() -> None:
    executor = FakeExecutor({"noisy": noisy})
    executor.seeds["noisy"] = "seed"
    platform = make_platform(executor)
    fails = {"now": True}

    def flaky(parameters: Any, context: RunContext) -> dict[str, Any]:
        if fails["now"]:
            raise RuntimeError("not yet")
        return noisy(parameters, context)

    executor.functions["noisy"] = flaky
    job_id = platform.submitting.submit_run(SubmitRun(
        "usr-1", "noisy", {"mu": 2.0, "sigma": 0.01},
        replicate=Replication("y", half_width=0.5, min=2))).job.id
    drained(platform)
    [point] = platform.replicating.points(job_id, "usr-1")
    assert point.state.outcome is Outcome.RUNS_FAILED and point.state.failed == 2

    fails["now"] = False
    assert len(platform.retrying.retry_job(job_id, "usr-1")) == 2
    drained(platform)
    [point] = platform.replicating.points(job_id, "usr-1")
    assert (point.state.outcome, point.state.failed, point.state.finished) == (
        Outcome.MET, 0, 2)
    assert math.isclose(point.state.summary(Replication("y", half_width=0.5, min=2)).mean
                        or 0.0, 2.0, abs_tol=0.1)


def test_cancelling_a_replicated_job_adds_no_batch() -> None:
    rule = Replication("y", half_width=0.001, min=2, batch=4)
    platform, job_id = replicated(rule, {"mu": [0.0, 1.0]})
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.work.execute_run(platform.dispatcher.runs.pop(0))  # one replicate
    platform.cancelling.cancel_job(job_id, "usr-1")
    drained(platform)
    view = platform.queries.get_job(job_id, "usr-1")
    assert view.job.run_count == 4
    assert view.counts == {RunStatus.SUCCEEDED: 1, RunStatus.CANCELLED: 3}
    assert all(p.state.outcome is None for p in platform.replicating.points(job_id, "usr-1"))


def test_a_replication_is_refused_for_a_type_without_a_seed_or_too_many_runs() -> None:
    platform = make_platform(FakeExecutor({"noisy": noisy}))  # declares no seed parameter
    with pytest.raises(ValidationError, match="'noisy' declares no seed parameter"):
        platform.submitting.submit(Submit(owner_id="usr-1", simulation_type="noisy",
                                          parameters={"mu": 1.0},
                                          replicate=Replication("y", half_width=0.1)))
    with pytest.raises(ValidationError, match="give replicate with it"):
        platform.submitting.submit(Submit(owner_id="usr-1", simulation_type="noisy",
                                          parameters={"mu": 1.0}, seed=3))
    rule = Replication("y", half_width=0.1, min=50, max=100)
    with pytest.raises(LimitExceeded, match="2001 points of at least 50 replicates"):
        replicated(rule, {"mu": list(range(2001))})
    with pytest.raises(ValidationError, match="seed must be an integer"):
        replicated(Replication("y", half_width=0.1), {"mu": [1.0]}, seed=-1)
