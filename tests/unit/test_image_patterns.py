"""ALLOWED_IMAGES in the OpenAPI document accepts exactly what fnmatch accepts."""

from __future__ import annotations

import fnmatch

import jsonschema_rs
import pytest

from simdock_adapters.http.image_patterns import allowed_images_pattern, allowed_images_schema

NAMES = ["sim:local", "sim:latest", "sim", "sim:", "simx:local", "ghcr.io/lab/model:1",
         "ghcr.io/lab/sub/model", "ghcr.io/other/model", "a.b", "axb", "model:v1", "model:v2",
         "model:v10", "model:va", "x[y", "x]", "a-b", "x+y", "a^b"]


@pytest.mark.parametrize("patterns", [
    ["sim:local"], ["sim:*"], ["sim:*", "ghcr.io/lab/*"], ["a.b"], ["model:v[0-9]"],
    ["model:v[!0-9]"], ["model:v?"], ["x[y"], ["x]"], ["[]]"], ["a-b", "a^b"], ["*"], [],
])
def test_the_pattern_accepts_what_fnmatch_accepts(patterns: list[str]) -> None:
    validator = jsonschema_rs.validator_for({"type": "string",
                                             "pattern": allowed_images_pattern(patterns)})
    for name in NAMES:
        expected = any(fnmatch.fnmatchcase(name, p) for p in patterns)
        assert validator.is_valid(name) == expected, (patterns, name)


def test_names_without_wildcards_are_listed() -> None:
    assert allowed_images_schema(["sim:local", "lab/model:2", "sim:local"]) == {
        "enum": ["lab/model:2", "sim:local"]}
    assert allowed_images_schema([]) == {"enum": []}
    assert "allOf" in allowed_images_schema(["sim:*", "lab/model:2"])
