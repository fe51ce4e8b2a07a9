"""Sweep expansion: lists, grids, zips, and every malformed specification."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from simdock.domain import SweepSpec, expand
from simdock.errors import InvalidParameters, InvalidSweep, LimitExceeded, ValidationError


def test_explicit_list_keeps_order_and_merges_over_base() -> None:
    spec = SweepSpec(variants=[{"a": 1}, {"a": 2, "b": 3}], base={"a": 0, "c": 9})
    assert expand(spec) == [{"a": 1, "c": 9}, {"a": 2, "b": 3, "c": 9}]


def test_grid_is_the_cartesian_product_in_axis_order() -> None:
    spec = SweepSpec(grid={"x": [1, 2], "y": ["a", "b", "c"]}, base={"z": True})
    variants = expand(spec)
    assert len(variants) == 6
    assert variants[0] == {"z": True, "x": 1, "y": "a"}
    assert variants[-1] == {"z": True, "x": 2, "y": "c"}


def test_zip_pairs_values_by_position() -> None:
    assert expand(SweepSpec(zipped={"x": [1, 2], "y": [3, 4]})) == [
        {"x": 1, "y": 3}, {"x": 2, "y": 4}]


@pytest.mark.parametrize(
    "spec",
    [SweepSpec(variants=[]), SweepSpec(grid={}), SweepSpec(zipped={})],
    ids=["empty-list", "empty-grid", "empty-zip"],
)
def test_zero_variants_is_refused(spec: SweepSpec) -> None:
    with pytest.raises(InvalidSweep):
        expand(spec)


def test_100001_variants_is_refused_naming_the_limit() -> None:
    with pytest.raises(LimitExceeded, match="100000"):
        expand(SweepSpec(variants=[{}] * 100_001))


def test_100000_variants_is_accepted() -> None:
    assert len(expand(SweepSpec(grid={"i": list(range(100_000))}))) == 100_000


def test_a_huge_grid_is_refused_before_it_is_built() -> None:
    started = time.perf_counter()
    with pytest.raises(LimitExceeded):
        expand(SweepSpec(grid={"a": list(range(1000)), "b": list(range(1000)),
                               "c": list(range(1000))}))
    assert time.perf_counter() - started < 1.0


def test_an_empty_grid_axis_is_named() -> None:
    with pytest.raises(InvalidSweep, match="'diffusivity' is empty"):
        expand(SweepSpec(grid={"length": [1.0], "diffusivity": []}))


def test_zip_axes_of_different_lengths_are_refused() -> None:
    with pytest.raises(InvalidSweep, match="equal lengths"):
        expand(SweepSpec(zipped={"x": [1, 2], "y": [1]}))


@pytest.mark.parametrize("axis", ["abc", {"a": 1}, 5])
def test_an_axis_that_is_not_a_list_is_refused(axis: object) -> None:
    with pytest.raises(InvalidSweep, match="must be a list"):
        expand(SweepSpec(grid={"x": axis}))  # type: ignore[dict-item]


def test_exactly_one_kind_of_specification() -> None:
    with pytest.raises(InvalidSweep, match="exactly one"):
        expand(SweepSpec(variants=[{}], grid={"x": [1]}))
    with pytest.raises(InvalidSweep, match="exactly one"):
        expand(SweepSpec())


def test_a_variant_that_is_not_an_object_is_named_by_index() -> None:
    with pytest.raises(InvalidParameters, match=r"sweep\[1\]"):
        expand(SweepSpec(variants=[{"a": 1}, [1, 2]]))  # type: ignore[list-item]


def test_a_string_is_not_a_list_of_variants() -> None:
    with pytest.raises(InvalidSweep):
        expand(SweepSpec(variants="abc"))  # type: ignore[arg-type]


def test_grid_values_must_be_json() -> None:
    with pytest.raises(InvalidParameters):
        expand(SweepSpec(grid={"x": [float("nan")]}))


def test_each_run_of_a_grid_is_found_by_its_index_without_expanding() -> None:
    spec = SweepSpec(grid={"x": [1, 2, 3], "y": ["a", "b"], "z": [True, False]}, base={"k": 0})
    expected = [{"k": 0, "x": x, "y": y, "z": z}
                for x, y, z in itertools.product([1, 2, 3], ["a", "b"], [True, False])]
    assert [spec.parameters(i) for i in range(spec.count())] == expected
    assert spec.varied(7) == {"x": 2, "y": "b", "z": False}


def test_a_variant_overrides_the_base_and_an_index_outside_the_sweep_is_refused() -> None:
    spec = SweepSpec(variants=[{"a": 1}], base={"a": 0, "b": 2})
    assert spec.parameters(0) == {"a": 1, "b": 2}
    with pytest.raises(ValidationError, match="no variant 1"):
        spec.parameters(1)


def test_one_run_is_a_spec_of_its_parameters() -> None:
    spec = SweepSpec.single({"a": 1})
    assert (spec.count(), spec.is_sweep, spec.parameters(0), spec.varied(0)) == (
        1, False, {"a": 1}, {})


@pytest.mark.parametrize("spec", [
    SweepSpec(grid={"z": [1, 2], "a": [3]}, base={"b": 1}),
    SweepSpec(zipped={"z": [1, 2], "a": [3, 4]}),
    SweepSpec(variants=[{"z": 1, "a": 2}]),
    SweepSpec.single({"q": [1, {"r": None}]}),
], ids=["grid", "zip", "list", "single"])
def test_a_spec_survives_its_json_record_with_axis_order_intact(spec: SweepSpec) -> None:
    # Axes as [name, values] pairs: a store that sorts object keys keeps the runs' order.
    record = json.loads(json.dumps(spec.to_record(), sort_keys=True))
    again = SweepSpec.from_record(record)
    assert [again.parameters(i) for i in range(again.count())] == list(spec.all_parameters())
    assert again.count() == spec.count()
