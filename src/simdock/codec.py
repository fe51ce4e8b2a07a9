"""JSON encoding of results that may hold numpy arrays.

Handlers may return numpy arrays and scalars. They are stored as tagged JSON
objects (dtype, shape, base64 bytes) so the notebook gets arrays back exactly,
and HTTP dialects can show them as plain nested lists.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from simdock.errors import ValidationError

ARRAY_TAG = "__ndarray__"


class JsonText(str):
    """A JSON document kept encoded: read from the store and sent on as it is."""

    __slots__ = ()


def encode(value: Any) -> Any:
    """A JSON-able copy of ``value`` with arrays tagged; refuses what JSON can't carry."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    if isinstance(value, np.generic):
        return encode(value.item())
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    raise ValidationError(f"result value of type {type(value).__name__} cannot be stored as JSON")


def decode(value: Any) -> Any:
    """``value`` with tagged arrays turned back into numpy arrays."""
    if isinstance(value, dict):
        if ARRAY_TAG in value and len(value) == 1:
            return _decode_array(value[ARRAY_TAG])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """``value`` with tagged arrays as nested lists, for JSON responses."""
    if isinstance(value, dict):
        if ARRAY_TAG in value and len(value) == 1:
            return _decode_array(value[ARRAY_TAG]).tolist()
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of an already-encoded value."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def loads(data: bytes) -> Any:
    return json.loads(data)


def _encode_array(array: np.ndarray) -> dict[str, Any]:
    if array.dtype.hasobject:
        return encode(array.tolist())  # type: ignore[no-any-return]
    contiguous = np.ascontiguousarray(array)
    return {
        ARRAY_TAG: {
            "dtype": contiguous.dtype.str,
            "shape": list(contiguous.shape),
            "data": base64.b64encode(contiguous.tobytes()).decode("ascii"),
        }
    }


def _decode_array(spec: Mapping[str, Any]) -> np.ndarray:
    raw = base64.b64decode(spec["data"])
    return np.frombuffer(raw, dtype=np.dtype(spec["dtype"])).reshape(spec["shape"]).copy()


def _non_finite(value: float) -> Any:
    # JSON has no NaN or infinity; keep them readable rather than fail a run.
    return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(value)]
