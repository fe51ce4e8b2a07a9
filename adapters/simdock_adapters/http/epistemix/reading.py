"""What the Epistemix dialect reads from a request: ids, dates and JSON bodies, checked once.

Every route of the dialect reads its input through these functions, so that one rule
holds on every route and every store:

- An id (a job's or a run's number, in the path, the query, a form or a body) is an
  integer from 1 to :data:`MAX_ID` (2,147,483,647, the range of the store's integer
  column on PostgreSQL, used on SQLite too). Anything else is a 400 naming the
  parameter; an id in that range that names nothing of the caller's is a 404.
- A date is ``YYYY-MM-DD`` from 0001-01-01 to 9999-12-30 (a window ends at midnight
  after its last day, which must still be a date).
- A body is standard JSON (no NaN or Infinity, no number beyond a double) nested at
  most :data:`MAX_DEPTH` levels deep (objects and arrays).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs

from flask import request
from pydantic import BaseModel, Field

from simdock.errors import ValidationError

#: The largest id: the store's integer column holds no more (PostgreSQL's int4).
MAX_ID = 2**31 - 1
#: The most ids one parameter may list.
MAX_IDS = 10_000
#: The deepest nesting of objects and arrays a body may have.
MAX_DEPTH = 64
#: The last date a window may end on.
LAST_DAY = date.max - timedelta(days=1)

#: An id in a body, checked by the request models with the same bounds.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

_DIGITS = re.compile(r"[0-9]{1,20}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
Model = TypeVar("Model", bound=BaseModel)


def ident(value: str, name: str) -> int:
    """The id ``value`` (decimal digits), or ValidationError naming ``name``."""
    number = int(value) if _DIGITS.fullmatch(value) else 0
    if not 1 <= number <= MAX_ID:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ValidationError(f"{name} must be an id from 1 to {MAX_ID}, got {shown!r}")
    return number


def idents(values: list[str], name: str) -> list[int]:
    """Ids from repeated query or form values, or ValidationError naming ``name``."""
    if len(values) > MAX_IDS:
        raise ValidationError(f"at most {MAX_IDS} {name} values, got {len(values)}")
    return [ident(value, name) for value in values]


def form_values(raw: bytes, name: str) -> list[str]:
    """The values of ``name`` in a form body (``a=1&a=2``); ValidationError past
    :data:`MAX_IDS` fields."""
    try:
        form = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=MAX_IDS)
    except ValueError:
        raise ValidationError(f"at most {MAX_IDS} form fields") from None
    return form.get(name, [])


def day(value: str | None, name: str) -> date | None:
    """The date ``value`` (``YYYY-MM-DD``), None when absent, or ValidationError."""
    if not value:
        return None
    try:
        moment = date.fromisoformat(value) if _DATE.fullmatch(value) else None
    except ValueError:
        moment = None
    if moment is None or moment > LAST_DAY:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ValidationError(f"{name} must be a date (YYYY-MM-DD) from 0001-01-01 to "
                              f"{LAST_DAY.isoformat()}, got {shown!r}")
    return moment


class _NotJson(ValueError):
    """A number JSON cannot hold: NaN, Infinity, or one too large for a double."""


def _constant(name: str) -> float:
    raise _NotJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotJson(f"{text[:40]} is too large a number")
    return number


def json_body() -> Any:
    """The request's JSON body (None when empty), or ValidationError saying what is wrong.
    Only standard JSON: NaN, Infinity and numbers beyond a double are refused, not
    turned into something else."""
    try:
        document = json.loads(request.get_data() or b"null", parse_constant=_constant,
                              parse_float=_finite)
    except RecursionError:
        document = None
        too_deep = True
    except _NotJson as exc:
        raise ValidationError(f"the body must be standard JSON: {exc}") from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("the body must be a JSON document") from None
    else:
        too_deep = depth(document) > MAX_DEPTH
    if too_deep:
        raise ValidationError(f"the body is nested more than {MAX_DEPTH} levels deep "
                              "(objects and arrays)")
    return document


def parsed(model: type[Model], default: Any = None) -> Model:
    """The JSON body validated by ``model`` (``default`` for an empty body)."""
    document = json_body()
    return model.model_validate(default if document is None else document)


def depth(document: Any) -> int:
    """How deeply objects and arrays nest in ``document`` (a scalar is 0), counting
    no further than one level past :data:`MAX_DEPTH`."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        pending.extend((child, level + 1) for child in children)
    return deepest
