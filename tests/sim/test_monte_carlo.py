"""The Monte Carlo pi estimate: reproducibility, convergence, batching and validation."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from simdock_sim import monte_carlo
from simdock_sim.monte_carlo import InvalidParameter, MonteCarloError, MonteCarloParameters

EXAMPLE = {"iterations": 10000, "seed": 42, "config": {"option1": "value1"}}


def estimate(values: dict[str, Any]) -> dict[str, Any]:
    return monte_carlo.run(MonteCarloParameters.from_mapping(values))


def test_the_example_parameters_run_and_echo_the_config() -> None:
    result = estimate(EXAMPLE)
    assert result["iterations"] == 10000
    assert result["seed"] == 42
    assert result["config"] == {"option1": "value1"}
    assert abs(result["estimate"] - math.pi) < 0.1
    assert result["abs_error"] == pytest.approx(abs(result["estimate"] - math.pi))
    assert result["batches"] == 10
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_same_seed_gives_the_same_estimate_whatever_the_batch_size() -> None:
    first = estimate(EXAMPLE)
    again = estimate(EXAMPLE)
    rebatched = estimate({**EXAMPLE, "config": {"batch_size": 777}})
    assert again["estimate"] == first["estimate"]
    assert rebatched["estimate"] == first["estimate"]
    assert rebatched["batches"] == math.ceil(10000 / 777)


def test_different_seeds_give_different_estimates() -> None:
    assert estimate({**EXAMPLE, "seed": 1})["estimate"] != estimate(EXAMPLE)["estimate"]


def test_no_seed_still_runs() -> None:
    result = estimate({"iterations": 1000})
    assert result["seed"] is None
    assert 2.5 < result["estimate"] < 3.8


def test_converges_for_a_million_samples() -> None:
    result = estimate({"iterations": 10**6, "seed": 7})
    assert result["abs_error"] < 0.01
    quarter = math.pi / 4
    expected_error = 4 * math.sqrt(quarter * (1 - quarter) / 1e6)
    assert result["std_error"] == pytest.approx(expected_error, rel=0.01)
    assert result["abs_error"] < 5 * result["std_error"]


def test_on_batch_reports_increasing_sample_counts() -> None:
    calls: list[tuple[int, float, float]] = []
    params = MonteCarloParameters.from_mapping(
        {"iterations": 10500, "seed": 3, "config": {"batch_size": 1000}}
    )
    result = monte_carlo.run(params, lambda n, est, err: calls.append((n, est, err)))
    counts = [call[0] for call in calls]
    assert counts == [*range(1000, 10001, 1000), 10500]
    assert len(calls) == result["batches"] == 11
    assert calls[-1][1] == result["estimate"]
    assert calls[-1][2] == result["std_error"]
    assert all(err > 0 for _, _, err in calls)


def test_an_exception_from_on_batch_stops_the_run() -> None:
    calls: list[int] = []

    def stop(done: int, estimate: float, std_error: float) -> None:
        calls.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        monte_carlo.run(MonteCarloParameters(iterations=10**6, seed=1), stop)
    assert calls == [10000]


def test_default_batch_size() -> None:
    assert MonteCarloParameters(iterations=500).batch_size == 500
    assert MonteCarloParameters(iterations=50_000).batch_size == 1000
    assert MonteCarloParameters(iterations=10**6).batch_size == 10_000
    assert MonteCarloParameters(iterations=10**10).batch_size == monte_carlo.DEFAULT_BATCH_CAP


def test_integral_floats_are_accepted() -> None:
    params = MonteCarloParameters.from_mapping({"iterations": 1000.0, "seed": 5.0})
    assert params.iterations == 1000 and type(params.iterations) is int
    assert params.seed == 5 and type(params.seed) is int
    assert params.to_dict() == {"iterations": 1000, "seed": 5, "config": {}}


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"iterations": 0}, "iterations"),
        ({"iterations": 10**10 + 1}, "iterations"),
        ({"iterations": -5}, "iterations"),
        ({"iterations": True}, "iterations"),
        ({"iterations": "100"}, "iterations"),
        ({"iterations": 1.5}, "iterations"),
        ({"iterations": float("nan")}, "iterations"),
        ({"iterations": None}, "iterations"),
        ({"seed": -1}, "seed"),
        ({"seed": "42"}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": 0.5}, "seed"),
        ({"config": "value"}, "config"),
        ({"config": [1, 2]}, "config"),
        ({"config": {"batch_size": 0}}, "batch_size"),
        ({"config": {"batch_size": "10"}}, "batch_size"),
        ({"config": {"batch_size": False}}, "batch_size"),
        ({"config": {"batch_size": 10**9}}, "batch_size"),
        ({"config": {1: "x"}}, "config"),
        ({"samples": 10}, "samples"),
    ],
)
def test_invalid_parameters_name_the_offender(values: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        MonteCarloParameters.from_mapping(values)
    assert name in str(caught.value)
    assert isinstance(caught.value, MonteCarloError)
    assert isinstance(caught.value, ValueError)


def test_main_prints_the_result_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert monte_carlo.main(["--iterations", "100000", "--seed", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["iterations"] == 100000 and result["seed"] == 1
    assert abs(result["estimate"] - math.pi) < 0.05


@pytest.mark.parametrize("argv", [["--iterations", "0"], ["--iterations", "many"], ["--bogus"]])
def test_main_reports_bad_arguments_on_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert monte_carlo.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
