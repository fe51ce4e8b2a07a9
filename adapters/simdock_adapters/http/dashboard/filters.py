"""The dashboard's listings as their addresses say: filters, order and page in the query.

A filter is part of the page's address, so a filtered page can be shared and the live
table refreshes with the same filter. What the address holds is checked as the API's
query parameters are (the same status words, orderings and cursors); a wrong value
is a 400 page that names it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as ModelError

from simdock.domain import RunStatus, parse_statuses
from simdock.errors import ValidationError
from simdock.paging import JOB_ORDER_FIELDS, Ordering, Page, PageRequest
from simdock.selection import JobQuery, RunQuery
from simdock_adapters.http import cursors
from simdock_adapters.http.schemas import JobOrder, StatusWord, Tag

Model = TypeVar("Model", bound=BaseModel)
PAGE_SIZE = 50
#: The orders the jobs page offers, by their ``order`` word.
JOB_ORDERS = {"-created_at": "Newest first", "created_at": "Oldest first",
              "name": "Name", "simulation_type": "Simulation type",
              "-run_count": "Most runs"}
STATUSES = [status.value for status in RunStatus]


class Listed(BaseModel):
    """What every listing's address may hold: a status and a page cursor."""

    model_config = ConfigDict(extra="ignore")

    status: StatusWord | None = None
    cursor: str | None = Field(None, max_length=cursors.MAX_CURSOR)

    @property
    def statuses(self) -> frozenset[RunStatus] | None:
        return parse_statuses([self.status]) if self.status else None

    def page_request(self) -> PageRequest:
        if self.cursor is None:
            return PageRequest(1, PAGE_SIZE)
        return PageRequest.following(cursors.decode(self.cursor), PAGE_SIZE)


class JobFilters(Listed):
    """The jobs page's address: ``status``, ``type``, ``tag``, ``from``, ``to``, ``order``."""

    type: str | None = Field(None, max_length=200)
    tag: Tag | None = None
    created_from: date | None = Field(None, alias="from")
    created_to: date | None = Field(None, alias="to")
    order: JobOrder = "-created_at"

    def query(self, owner_id: str | None) -> JobQuery:
        """The listing these filters ask for, of ``owner_id``'s jobs (everyone's for None)."""
        if self.created_from and self.created_to and self.created_to < self.created_from:
            raise ValidationError("the 'to' date is before the 'from' date")
        return JobQuery(owner_id=owner_id, statuses=self.statuses,
                        simulation_type=self.type or None, tag=self.tag,
                        created_from=_midnight(self.created_from),
                        created_before=_midnight(self.created_to, days_after=1),
                        order=Ordering.parse(self.order, JOB_ORDER_FIELDS),
                        page=self.page_request())

    def given(self) -> dict[str, str]:
        """The filters as the address holds them, without the cursor."""
        fields = {"status": self.status, "type": self.type, "tag": self.tag,
                  "from": self.created_from and self.created_from.isoformat(),
                  "to": self.created_to and self.created_to.isoformat(),
                  "order": None if self.order == "-created_at" else self.order}
        return {name: value for name, value in fields.items() if value}


class RunFilters(Listed):
    """A job page's runs: ``status`` and ``cursor``."""

    def query(self, owner_id: str | None, job_id: str) -> RunQuery:
        return RunQuery(owner_id=owner_id, job_id=job_id, statuses=self.statuses,
                        order=Ordering("index", descending=False), page=self.page_request())

    def given(self) -> dict[str, str]:
        return {"status": self.status} if self.status else {}


class PlotChoice(BaseModel):
    """A job page's plot: the parameter along x and the result along y."""

    model_config = ConfigDict(extra="ignore")

    x: str | None = Field(None, min_length=1, max_length=200)
    y: str | None = Field(None, min_length=1, max_length=200)


def parsed(model: type[Model], args: dict[str, Any]) -> Model:
    """``args`` (a request's query) as ``model``, or a ValidationError naming what was wrong."""
    try:
        return model.model_validate(args)
    except ModelError as error:
        problems = [f"{'.'.join(str(p) for p in item['loc']) or 'query'}: {item['msg']}"
                    for item in error.errors()]
        raise ValidationError("; ".join(problems)) from None


def first_shown(page: Page[Any]) -> int:
    """The position (from 1) of a page's first item in the whole listing; 0 when empty."""
    return (page.page - 1) * page.page_size + 1 if page.items else 0


def address(path: str, filters: dict[str, str], page: Page[Any] | None = None) -> str:
    """``path`` with ``filters``, and the cursor of ``page``'s next page when given."""
    query = dict(filters)
    if page is not None and page.next is not None:
        query["cursor"] = cursors.encode(page.next)
    return f"{path}?{urlencode(query)}" if query else path


def _midnight(day: date | None, days_after: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=days_after), time(), tzinfo=UTC)
