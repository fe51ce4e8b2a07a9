"""Shapes shared by every route: the error envelope and the pagination envelope."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from simdock.domain import RunStatus, parse_statuses

T = TypeVar("T")


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


class PageQuery(BaseModel):
    """``?page=&page_size=`` (``size`` is accepted too, as seed 001 writes it)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int | None = Field(None, ge=1, le=1000)
    size: int | None = Field(None, ge=1, le=1000)

    @property
    def effective_size(self) -> int:
        return self.page_size or self.size or 50


class StatusFilter(BaseModel):
    """``?status=`` given once or repeated, with the seeds' synonyms (success, pending...)."""

    status: str | list[str] | None = Field(None, description="Filter by status (repeatable)")

    @property
    def statuses(self) -> frozenset[RunStatus] | None:
        given = self.status if isinstance(self.status, list) else (
            [self.status] if self.status else [])
        return parse_statuses(given) if given else None


class Deleted(BaseModel):
    id: str
    status: str
