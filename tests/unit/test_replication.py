"""Adaptive replication's rules: the options checked, the Student-t interval, when a point
needs more replicates or stops, the seeds, and whether the intervals are honest."""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np
import pytest

from sim import monte_carlo
from simdock.domain.replication import (
    Moments,
    Outcome,
    PointSummary,
    Replication,
    decide,
    metric_of,
    replicate_seed,
    summarise,
    t_quantile,
)
from simdock.errors import ValidationError


@pytest.mark.parametrize(("options", "named"), [
    ({}, "metric"),
    ({"metric": " "}, "metric"),
    ({"metric": "estimate"}, "exactly one of half_width"),
    ({"metric": "estimate", "half_width": 0.1, "relative": 0.01}, "exactly one of half_width"),
    ({"metric": "estimate", "half_width": 0}, "half_width"),
    ({"metric": "estimate", "relative": float("nan")}, "relative"),
    ({"metric": "estimate", "half_width": 0.1, "confidence": 1}, "confidence"),
    ({"metric": "estimate", "half_width": 0.1, "confidence": 0}, "confidence"),
    ({"metric": "estimate", "half_width": 0.1, "min": 1}, "min"),
    ({"metric": "estimate", "half_width": 0.1, "min": 2.5}, "min"),
    ({"metric": "estimate", "half_width": 0.1, "max": 100_001}, "max"),
    ({"metric": "estimate", "half_width": 0.1, "min": 10, "max": 5}, "min"),
    ({"metric": "estimate", "half_width": 0.1, "batch": 0}, "batch"),
    ({"metric": "estimate", "half_width": 0.1, "batch": True}, "batch"),
    ({"metric": "estimate", "half_width": 0.1, "seed": 1}, "unknown field 'seed'"),
])
def test_contradictory_or_missing_options_are_refused_naming_the_field(
        options: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        Replication.parse(options)


def test_options_parse_with_their_defaults() -> None:
    assert Replication.parse({"metric": "estimate", "relative": 0.01}) == Replication(
        "estimate", relative=0.01, confidence=0.95, min=5, max=2000, batch=16)
    with pytest.raises(ValidationError, match="must be an object"):
        Replication.parse(["estimate"])


@pytest.mark.parametrize(("p", "df", "expected"), [
    (0.975, 1, 12.7062), (0.975, 2, 4.3027), (0.975, 4, 2.7764), (0.975, 10, 2.2281),
    (0.975, 30, 2.0423), (0.995, 20, 2.8453), (0.95, 5, 2.0150), (0.975, 1000, 1.9623)])
def test_the_t_quantiles_are_those_of_the_tables(p: float, df: int, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, abs=1e-4)


def decided(rule: Replication, values: list[Any], failed: int = 0,
            planned: int | None = None) -> PointSummary:
    """:func:`decide` of a point whose replicates gave ``values`` (None: no number)."""
    numbers = [metric_of({"y": value}, "y") for value in values]
    found = [number for number in numbers if number is not None]
    return decide(rule, Moments.of(found), len(values) + failed if planned is None
                  else planned, failed, len(numbers) - len(found))


def test_moments_kept_one_value_at_a_time_are_those_of_all_the_values() -> None:
    numbers = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0, 1e9 + 0.5]
    moments = Moments.of(numbers)
    assert moments.n == 9 and moments.mean == pytest.approx(statistics.fmean(numbers))
    assert moments.std == pytest.approx(statistics.stdev(numbers), rel=1e-12)
    assert Moments().std is None and Moments.of([3.0]).std is None


def test_a_summary_is_the_mean_and_its_student_t_interval() -> None:
    numbers = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    summary = summarise(Moments.of(numbers), 0.95)
    half = 2.3646 * statistics.stdev(numbers) / math.sqrt(8)
    assert (summary.n, summary.mean) == (8, 5.0)
    assert summary.std == pytest.approx(statistics.stdev(numbers))
    assert summary.half_width == pytest.approx(half, rel=1e-4)
    assert (summary.low, summary.high) == pytest.approx((5.0 - half, 5.0 + half), rel=1e-4)
    assert summarise(Moments.of([1.0]), 0.95).half_width is None
    assert summarise(Moments(), 0.95).mean is None


def test_a_point_gets_its_minimum_then_batches_until_narrow_enough() -> None:
    rule = Replication("y", half_width=0.5, min=4, max=40, batch=8)
    assert decided(rule, []).add == 4  # nothing yet: the minimum
    wide = decided(rule, [0.0, 10.0, 0.0, 10.0])
    assert (wide.outcome, wide.add, wide.n) == (Outcome.MORE, 8, 4)
    narrow = decided(rule, [5.0, 5.1, 4.9, 5.0, 5.05])
    assert narrow.met and narrow.outcome is Outcome.MET and narrow.add == 0
    assert narrow.high is not None and narrow.low is not None
    assert narrow.high - narrow.low <= 1.0
    tight = decided(rule, [5.0, 5.0, 5.0])  # narrow, but fewer than the minimum
    assert (tight.outcome, tight.add) == (Outcome.MORE, 1)


def test_a_relative_target_is_a_share_of_the_mean() -> None:
    rule = Replication("y", relative=0.01, min=2)
    assert decided(rule, [100.0, 100.2, 99.8, 100.1, 99.9]).met
    assert not decided(rule, [1.0, 1.2, 0.8, 1.1, 0.9]).met


def test_a_point_stops_at_max_and_never_asks_past_it() -> None:
    rule = Replication("y", half_width=0.001, min=2, max=10, batch=8)
    assert decided(rule, [1.0, 3.0, 2.0, 5.0]).add == 6  # 4 planned: 6 more reach max
    done = decided(rule, [float(i % 3) for i in range(10)])
    assert done.outcome is Outcome.MAX_REACHED and not done.met and done.add == 0
    assert done.reason is not None and "max (10)" in done.reason
    assert decided(rule, [1.0, 2.0], planned=10).outcome is Outcome.MAX_REACHED


def test_a_missing_metric_or_a_failed_replicate_stops_the_point_saying_why() -> None:
    rule = Replication("y", half_width=0.1)
    missing = decided(rule, [1.0, None, "x", 2.0])
    assert missing.outcome is Outcome.METRIC_MISSING and missing.n == 2
    assert missing.reason == "2 replicate results lack a number under 'y'"
    failed = decided(rule, [1.0, 2.0], failed=1)
    assert (failed.outcome, failed.reason) == (Outcome.RUNS_FAILED, "1 replicate failed")
    assert decided(rule, [True, 1.0]).outcome is Outcome.METRIC_MISSING  # a bool is no number
    assert metric_of([1.0], "y") is None and metric_of({"y": float("inf")}, "y") is None


def test_seeds_follow_numpys_spawn_rule_are_reproducible_distinct_and_json_safe() -> None:
    children = np.random.SeedSequence(2024).spawn(3)[2].spawn(5)
    state = children[4].generate_state(2, np.uint32)
    assert replicate_seed(2024, 2, 4) == (int(state[0]) << 21) | (int(state[1]) >> 11)
    seeds = {replicate_seed(7, point, replicate)
             for point in range(50) for replicate in range(200)}
    assert len(seeds) == 10_000 and max(seeds) < 2**53
    assert replicate_seed(7, 3, 9) == replicate_seed(7, 3, 9) != replicate_seed(8, 3, 9)
    with pytest.raises(ValidationError, match="seed"):
        replicate_seed(-1, 0, 0)


def replicated_pi(job_seed: int, rule: Replication) -> tuple[Any, int]:
    """The whole procedure on one point of monte_carlo: batches until decided."""
    moments, planned = Moments(), 0
    while True:
        summary = decide(rule, moments, planned)
        if summary.outcome is not Outcome.MORE:
            return summary, planned
        for replicate in range(planned, planned + summary.add):
            parameters = monte_carlo.MonteCarloParameters(
                iterations=400, seed=replicate_seed(job_seed, 0, replicate))
            moments = moments.add(monte_carlo.run(parameters)["estimate"])
        planned += summary.add


def test_the_95_percent_intervals_contain_pi_at_least_93_percent_of_the_time() -> None:
    """Stopping as soon as an interval looks narrow enough under-covers when the minimum
    is small: with the default minimum (5), over 300 repetitions of the procedure on
    monte_carlo with a target that needs about 20 replicates, the intervals still hold pi
    at least 93% of the time."""
    rule = Replication("estimate", half_width=0.035, confidence=0.95)
    outcomes = [replicated_pi(seed, rule) for seed in range(300)]
    assert all(summary.met for summary, _ in outcomes)
    assert statistics.median(n for _, n in outcomes) > rule.min
    covered = sum(summary.low <= math.pi <= summary.high for summary, _ in outcomes)
    assert covered / len(outcomes) >= 0.93, covered
