"""Blob keys: relative, slash-separated, never escaping their store."""

from __future__ import annotations

import re

from simdock.errors import ValidationError

_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def check_key(key: str) -> str:
    """``key`` if it is a safe relative key, else a ValidationError naming it."""
    if not isinstance(key, str) or not _KEY.match(key) or any(
        part in {".", ".."} for part in key.split("/")
    ):
        raise ValidationError(f"invalid blob key {key!r}")
    return key
