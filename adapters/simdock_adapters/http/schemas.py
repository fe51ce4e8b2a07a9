"""Shapes shared by every route: the error envelope and the pagination envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from simdock.domain import RunStatus, parse_statuses
from simdock.domain.status import STATUS_SYNONYMS
from simdock.domain.text import NOT_BLANK
from simdock.errors import ValidationError
from simdock.paging import JOB_ORDER_FIELDS, RUN_ORDER_FIELDS, Ordering, PageRequest
from simdock_adapters.http import cursors

T = TypeVar("T")


def _whole_number(value: Any) -> Any:
    """183.0 is the integer 183 in JSON Schema: let a whole float through as an int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _iso_time(value: Any) -> Any:
    """A time in a query string is ISO 8601 text, not a number of seconds."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 date-time such as 2026-01-31T12:00:00Z") from None
    return value


#: Makes an integer field of a JSON body take 3.0 as 3 (still no strings, no booleans):
#: ``Annotated[int, Field(ge=1), WHOLE]``, the bounds first so that the document shows them.
WHOLE = BeforeValidator(_whole_number)
#: A date-time in a query string: ISO 8601 only.
QueryTime = Annotated[datetime, BeforeValidator(_iso_time)]
#: A name: 1 to 200 characters, not only white space.
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK)]
#: A tag: 1 to 200 characters.
Tag = Annotated[str, Field(min_length=1, max_length=200)]
#: Every word a ``status`` filter takes, as lower case or upper case (``DONE``).
STATUS_WORDS = sorted({w for s in [*(s.value for s in RunStatus), *STATUS_SYNONYMS]
                       for w in (s, s.upper())})

def _status_word(value: str) -> str:
    if value not in STATUS_WORDS:
        raise ValidationError(f"unknown status '{value}'; expected one of: "
                              f"{', '.join(STATUS_WORDS)}")
    return value


StatusWord = Annotated[str, AfterValidator(_status_word),
                       WithJsonSchema({"type": "string", "enum": STATUS_WORDS})]


def order_words(fields: frozenset[str]) -> list[str]:
    """Every spelling of an ordering: ``f``, ``+f``, ``-f``, ``f:asc``, ``f:desc``."""
    return sorted(w for f in fields for w in (f, f"+{f}", f"-{f}", f"{f}:asc", f"{f}:desc"))


RUN_ORDER_WORDS = order_words(RUN_ORDER_FIELDS)
JOB_ORDER_WORDS = order_words(JOB_ORDER_FIELDS)


def _run_order(value: str) -> str:
    return _order(value, RUN_ORDER_FIELDS)


def _job_order(value: str) -> str:
    return _order(value, JOB_ORDER_FIELDS)


def _order(value: str, fields: frozenset[str]) -> str:
    # Empty is not one of the documented words: leave the parameter out for the default.
    if not value:
        raise ValidationError("order_by names a field to order by; leave it out for the "
                              "default order")
    Ordering.parse(value, fields)
    return value


#: ``?order_by=`` of a listing of runs, or of jobs: a field, ``-field`` for descending.
RunOrder = Annotated[str, AfterValidator(_run_order),
                     WithJsonSchema({"type": "string", "enum": RUN_ORDER_WORDS})]
JobOrder = Annotated[str, AfterValidator(_job_order),
                     WithJsonSchema({"type": "string", "enum": JOB_ORDER_WORDS})]


class ErrorBody(BaseModel):
    code: str = Field(description="A stable error code such as ResourceNotFound")
    message: str = Field(description="What was wrong, for a person to read")


class ErrorEnvelope(BaseModel):
    """Every error response (seed 003's format)."""

    error: ErrorBody
    request_id: str


class PageOf(BaseModel, Generic[T]):
    """One page of a listing (seed 003's pagination envelope)."""

    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    total_pages: int = Field(ge=0)
    next_cursor: str | None = Field(
        None, description="Where the next page starts, where a listing pages by cursor: pass "
                          "it as ?cursor= to get that page as fast as the first (null on the "
                          "last page)")


class PageQuery(BaseModel):
    """``?page=&page_size=`` (``size`` is accepted too, as seed 001 writes it)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int | None = Field(None, ge=1, le=1000)
    size: int | None = Field(None, ge=1, le=1000)

    @property
    def effective_size(self) -> int:
        return self.page_size or self.size or 50

    def page_request(self) -> PageRequest:
        return PageRequest(self.page, self.effective_size)


class CursorPageQuery(PageQuery):
    """``?page=`` and ``?size=``, or ``?cursor=`` from the previous page's ``next_cursor``."""

    cursor: str | None = Field(None, max_length=cursors.MAX_CURSOR,
                               description="A previous page's next_cursor (page is then "
                                           "not needed)")

    def page_request(self) -> PageRequest:
        if self.cursor is None:
            return super().page_request()
        return PageRequest.following(cursors.decode(self.cursor), self.effective_size)


class StatusFilter(BaseModel):
    """``?status=`` given once or repeated, with the seeds' synonyms (success, pending...)."""

    status: StatusWord | list[StatusWord] | None = Field(
        None, description="Filter by status (repeatable): a status, or a seed's word for one "
                          "(success, pending, finished, done...), lower or upper case")

    @property
    def statuses(self) -> frozenset[RunStatus] | None:
        given = self.status if isinstance(self.status, list) else (
            [self.status] if self.status else [])
        return parse_statuses(given) if given else None


class Deleted(BaseModel):
    id: str
    status: str
