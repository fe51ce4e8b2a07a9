"""Parameter sets: what a run is given, checked to be a plain JSON object."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from simdock.domain.text import NUL
from simdock.errors import InvalidParameters

MAX_NESTING = 64


def validate_parameters(value: object, where: str = "parameters") -> dict[str, Any]:
    """Return ``value`` as a JSON object or raise :class:`InvalidParameters`.

    Keys must be strings and values JSON (no NaN or infinity, no objects that
    JSON cannot carry), so that every store and every dialect round-trips them.
    """
    if not isinstance(value, Mapping):
        raise InvalidParameters(f"{where} must be a JSON object, got {_type_name(value)}")
    _check_json(value, where, 0)
    return dict(value)


def _check_json(value: object, path: str, depth: int) -> None:
    if depth > MAX_NESTING:
        raise InvalidParameters(f"{path} is nested deeper than {MAX_NESTING} levels")
    if isinstance(value, str):
        if not _is_unicode(value):
            raise InvalidParameters(f"{path} holds a lone surrogate, which is not a character")
        if NUL in value:
            raise InvalidParameters(f"{path} holds a NUL character (\\u0000), which cannot "
                                    "be stored")
        return
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidParameters(f"{path} must be a finite number, got {value}")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidParameters(f"{path} has a non-string key {key!r}")
            if not _is_unicode(key):
                raise InvalidParameters(f"{path} has a key holding a lone surrogate")
            if NUL in key:
                raise InvalidParameters(f"{path} has a key holding a NUL character (\\u0000)")
            _check_json(item, f"{path}.{key}", depth + 1)
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]", depth + 1)
        return
    raise InvalidParameters(f"{path} is not a JSON value (got {_type_name(value)})")


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _type_name(value: object) -> str:
    names = {list: "an array", tuple: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
