"""Which parameters a list shows: whole within the bound, else the smallest that fit."""

from __future__ import annotations

from simdock.domain import SweepSpec
from simdock.domain.listing import Omitted, json_size, within


def sizes(parameters: dict[str, object]) -> dict[str, int]:
    return {name: json_size(value) for name, value in parameters.items()}


def test_parameters_within_the_bound_are_shown_whole() -> None:
    parameters = {"a": 1, "b": "x" * 50}
    assert within(parameters, sizes(parameters), json_size(parameters)) == parameters
    assert within({}, {}, 0) == {}


def test_past_the_bound_the_largest_are_omitted_with_their_size_in_their_places() -> None:
    parameters = {"big": "x" * 1_000, "a": 1, "mid": "y" * 100, "b": 2}
    shown = within(parameters, sizes(parameters), 200)
    assert list(shown) == ["big", "a", "mid", "b"]
    assert shown == {"big": Omitted(1_002), "a": 1, "mid": "y" * 100, "b": 2}
    assert json_size({k: v for k, v in shown.items() if not isinstance(v, Omitted)}) <= 200
    assert all(isinstance(v, Omitted) for v in within(parameters, sizes(parameters), 0).values())


def test_sizes_are_those_of_compact_utf8_json() -> None:
    assert json_size({"é": [1, 2]}) == len('{"é":[1,2]}'.encode())


def test_a_sweep_measures_its_base_once_and_each_run_its_own_values() -> None:
    spec = SweepSpec(grid={"alpha": [1, 22]}, base={"field": [0.5] * 100, "alpha": 0})
    assert spec.parameter_sizes(1) == {"field": json_size([0.5] * 100), "alpha": 2}
    assert spec.parameter_sizes(0)["alpha"] == 1
    assert spec.parameter_sizes(0) == sizes(spec.parameters(0))
