"""A sweep's results aggregated for a plot: by parameter value, binned, sampled, as lines."""

from __future__ import annotations

from typing import Any

import pytest

from simdock.domain import SweepSpec
from simdock.errors import NotFound, ValidationError
from simdock.ports import RunContext
from simdock.usecases import plots
from simdock.usecases.plots import ResultPoint, aggregate
from simdock.usecases.submit import SubmitRun, SubmitSweep
from tests.unit.fakes import FakeExecutor, QueueDispatcher, make_platform


def model(parameters: Any, context: RunContext) -> dict[str, Any]:
    return {"y": parameters["n"] * parameters["k"], "label": "text", "flag": True}


def swept(grid: dict[str, list[Any]]) -> tuple[Any, str]:
    platform = make_platform(FakeExecutor({"model": model}))
    job = platform.submitting.submit_sweep(SubmitSweep("usr-1", "model", SweepSpec(grid=grid)))
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    return platform, job.job.id


def test_a_result_is_aggregated_by_each_value_of_a_varied_parameter() -> None:
    platform, job_id = swept({"n": [1, 2, 3], "k": [1, 10]})

    plot = platform.plots.result_plot(job_id, "usr-1")

    assert (plot.varied, plot.results, plot.x, plot.y) == (["n", "k"], ["y"], "n", "y")
    assert plot.points == [ResultPoint(1, 5.5, 1, 10, 2), ResultPoint(2, 11.0, 2, 20, 2),
                           ResultPoint(3, 16.5, 3, 30, 2)]
    assert (plot.numeric, plot.every, plot.read) == (True, 1, 6)
    assert plot.axes == ["n", "k", "y"] and [1.0, 10.0, 10.0] in plot.lines
    by_k = platform.plots.result_plot(job_id, "usr-1", x="k")
    assert [(p.x, p.runs) for p in by_k.points] == [(1, 3), (10, 3)]


def test_an_unknown_parameter_or_result_names_what_the_job_has() -> None:
    platform, job_id = swept({"n": [1], "k": [1]})
    with pytest.raises(ValidationError, match=r"no parameter named 'z'.*: n, k"):
        platform.plots.result_plot(job_id, "usr-1", x="z")
    with pytest.raises(ValidationError, match=r"no result named 'label'.*: y"):
        platform.plots.result_plot(job_id, "usr-1", y="label")
    with pytest.raises(NotFound):
        platform.plots.result_plot(job_id, "usr-2")


def test_a_single_run_has_nothing_to_plot_against() -> None:
    platform = make_platform(FakeExecutor({"model": model}))
    job = platform.submitting.submit_run(SubmitRun("usr-1", "model", {"n": 1, "k": 2}))
    plot = platform.plots.result_plot(job.job.id, "usr-1")
    assert (plot.varied, plot.x, plot.points) == ([], None, [])


def test_many_numeric_values_are_binned_and_categories_kept_in_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plots, "MAX_POINTS", 4)
    binned, numeric = aggregate([(float(x), float(x)) for x in range(8)])
    assert numeric and [p.runs for p in binned] == [2, 2, 2, 2]
    assert [p.mean for p in binned] == [0.5, 2.5, 4.5, 6.5]
    labelled, numeric = aggregate([("b", 1.0), ("a", 3.0), ("b", 2.0)])
    assert not numeric and [(p.x, p.mean, p.runs) for p in labelled] == [("b", 1.5, 2),
                                                                          ("a", 3.0, 1)]


def test_a_large_sweep_is_sampled_by_index(monkeypatch: pytest.MonkeyPatch) -> None:
    platform, job_id = swept({"n": [1, 2, 3], "k": [1, 10]})
    monkeypatch.setattr(plots, "MAX_RUNS", 2)
    plot = platform.plots.result_plot(job_id, "usr-1")
    assert (plot.every, plot.read) == (3, 2)  # runs 0 and 3 of six
    assert [(p.x, p.runs) for p in plot.points] == [(1, 1), (2, 1)]
