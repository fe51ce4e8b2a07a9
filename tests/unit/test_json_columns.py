"""JSON columns read from the database read as the standard library reads them."""

from __future__ import annotations

import json
import math

import pytest

from simdock_adapters.sql.engine import json_loads

DOCUMENTS = [
    '{"$inline": {"x": 1, "rate": 0.1, "name": "caf\\u00e9", "on": true, "none": null}}',
    '[1, -2, 3.5e-7, "\\ud83d\\ude00", {"nested": [[]]}]',
    '{"seed": 123456789012345678901234567890, "negative": -9223372036854775809}',
    '{"max_u64": 18446744073709551615, "digits": "12345678901234567890"}',
    '{"a": 1, "a": 2}',
]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_reads_as_json_loads_does(document: str, as_bytes: bool) -> None:
    read = json_loads(document.encode() if as_bytes else document)
    assert read == json.loads(document)
    assert [type(v) for v in _leaves(read)] == [type(v) for v in _leaves(json.loads(document))]


def test_integers_past_64_bits_stay_integers() -> None:
    assert json_loads(b'{"seed": 340282366920938463463374607431768211457}') == {
        "seed": 340282366920938463463374607431768211457}


def test_nan_and_infinity_as_sqlite_may_hold_them() -> None:
    read = json_loads('{"a": NaN, "b": Infinity, "c": 1e400}')
    assert math.isnan(read["a"]) and read["b"] == math.inf and read["c"] == math.inf


def test_not_json_is_refused() -> None:
    with pytest.raises(ValueError):
        json_loads("{not json")


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
