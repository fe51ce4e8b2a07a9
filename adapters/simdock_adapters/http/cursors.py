"""Opaque page cursors: a listing's position as a short URL-safe string, and back.

A cursor says where a page ended (see ``simdock.paging.PagePosition``); the
client hands it back as ``?cursor=`` to get the next page as fast as the
first. It is not a secret: a forged one can only select among the caller's
own items, and its values are checked before they reach a query.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from simdock.errors import ValidationError
from simdock.paging import PagePosition

MAX_CURSOR = 1024


def encode(position: PagePosition) -> str:
    value: Any = position.value
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    data = json.dumps([position.field, position.descending, value, position.number,
                       position.page], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode(cursor: str) -> PagePosition:
    """The position a cursor names; ValidationError for anything this module did not write."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        field, descending, value, number, page = json.loads(raw)
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["t"])
        if not isinstance(field, str) or not isinstance(descending, bool):
            raise ValueError("malformed")
        return PagePosition(field, descending, value, number, page)
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError,
            RecursionError):
        raise ValidationError("invalid cursor: pass back the next_cursor of a listing, "
                              "unchanged") from None
