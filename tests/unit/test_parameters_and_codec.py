"""Parameter validation and the JSON codec for results with numpy arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simdock import codec
from simdock.domain.parameters import validate_parameters
from simdock.errors import InvalidParameters, ValidationError


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1, 2], "must be a JSON object, got an array"),
        ("text", "got a string"),
        (None, "got null"),
        (3, "got a number"),
        ({"a": float("nan")}, "parameters.a must be a finite number"),
        ({"a": {"b": [1, float("inf")]}}, r"parameters.a.b\[1\]"),
        ({1: "x"}, "non-string key"),
        ({"a": object()}, "not a JSON value"),
        ({"a": "bad \ud800"}, "lone surrogate"),
        ({"\udfff": 1}, "lone surrogate"),
    ],
)
def test_invalid_parameters_name_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(InvalidParameters, match=message):
        validate_parameters(value)


def test_deep_nesting_is_bounded() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(100):
        node["n"] = {}
        node = node["n"]  # type: ignore[assignment]
    with pytest.raises(InvalidParameters, match="nested deeper"):
        validate_parameters(deep)


def test_unicode_and_nesting_within_limits_are_accepted() -> None:
    value = {"名前": "温度 🌡️ שלום", "nested": {"a": [{"b": [1, 2.5, None, True]}]}}
    assert validate_parameters(value) == value


def test_arrays_round_trip_with_dtype_and_shape() -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    decoded = codec.decode(codec.loads(codec.dumps(codec.encode({"a": array, "n": [array]}))))
    assert decoded["a"].dtype == np.float32 and decoded["a"].shape == (3, 4)
    np.testing.assert_array_equal(decoded["n"][0], array)


def test_plain_turns_arrays_into_lists() -> None:
    encoded = codec.encode({"a": np.array([[1, 2], [3, 4]])})
    assert codec.plain(encoded) == {"a": [[1, 2], [3, 4]]}


def test_numpy_scalars_become_python_numbers() -> None:
    encoded = codec.encode({"f": np.float64(1.5), "i": np.int32(3), "b": np.bool_(True)})
    assert encoded == {"f": 1.5, "i": 3, "b": True}
    assert type(encoded["i"]) is int


def test_non_finite_floats_stay_readable() -> None:
    assert codec.encode([math.nan, math.inf]) == ["NaN", "Infinity"]


def test_objects_json_cannot_carry_are_refused() -> None:
    with pytest.raises(ValidationError, match="set"):
        codec.encode({"s": {1, 2}})
