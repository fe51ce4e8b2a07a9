"""Pages and orderings of listings: which page of which order, and where the next one starts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from simdock.errors import ValidationError

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class PagePosition:
    """Where a page of a listing ended: its last item's sort value and number.

    The next page is found by seeking to this position in the listing's order
    (keyset pagination), so page 2,000 costs what page 1 does; an offset
    would count past every earlier item.
    """

    field: str
    descending: bool
    value: Any
    number: int
    page: int

    def __post_init__(self) -> None:
        kind = ORDER_VALUE_TYPES.get(self.field)
        if kind is None:
            raise ValidationError(f"cannot continue a listing ordered by '{self.field}'")
        if self.value is not None and (isinstance(self.value, bool)
                                       or not isinstance(self.value, kind)):
            raise ValidationError(f"a position in a listing by {self.field} cannot hold "
                                  f"{self.value!r}")
        if isinstance(self.value, datetime) and self.value.tzinfo is None:
            raise ValidationError("a position's time must say its time zone")
        if isinstance(self.number, bool) or not isinstance(self.number, int) \
                or not 0 < self.number < 2**63 or not isinstance(self.page, int) \
                or not 0 < self.page < 2**31:
            raise ValidationError("a position needs a positive item number and page")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and what it takes to find the others."""

    items: list[T]
    total: int
    page: int
    page_size: int
    #: Where the next page starts, when there is one.
    next: PagePosition | None = None

    @property
    def total_pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size if self.total else 0


@dataclass(frozen=True)
class PageRequest:
    """Which page of a listing, checked on creation: by number, or the one after a position."""

    page: int = 1
    page_size: int = 50
    after: PagePosition | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.page, int) or self.page < 1:
            raise ValidationError(f"page must be an integer >= 1, got {self.page!r}")
        if not isinstance(self.page_size, int) or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValidationError(
                f"page size must be an integer between 1 and {MAX_PAGE_SIZE}, "
                f"got {self.page_size!r}"
            )

    @classmethod
    def following(cls, position: PagePosition, page_size: int = 50) -> PageRequest:
        """The page after ``position``."""
        return cls(position.page + 1, page_size, position)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def check_order(self, order: Ordering) -> None:
        """Refuse a position taken from a listing in another order."""
        if self.after is not None and (self.after.field, self.after.descending) != (
                order.field, order.descending):
            raise ValidationError("this cursor belongs to a listing in another order; "
                                  "list again without it")

    def next_position(self, items: Sequence[Any], total: int, order: Ordering
                      ) -> PagePosition | None:
        """Where the page after ``items`` (this page's) starts, if any item is left."""
        last = items[-1] if items else None
        number = getattr(last, "number", None)
        if number is None or self.offset + len(items) >= total:
            return None
        return PagePosition(order.field, order.descending, getattr(last, order.field),
                            int(number), self.page)


RUN_ORDER_FIELDS = frozenset(
    {"created_at", "updated_at", "started_at", "finished_at", "status", "simulation_type",
     "index", "progress"}
)
JOB_ORDER_FIELDS = frozenset({"created_at", "simulation_type", "name", "run_count"})
#: What a listing's sort values are, by field, so a position can be checked before use.
ORDER_VALUE_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "created_at": datetime, "updated_at": datetime, "started_at": datetime,
    "finished_at": datetime, "status": str, "simulation_type": str, "name": str,
    "index": int, "run_count": int, "progress": (int, float),
}


@dataclass(frozen=True)
class Ordering:
    """A sort key and direction; ties are broken by creation order (then id)."""

    field: str = "created_at"
    descending: bool = True

    @classmethod
    def parse(cls, text: str | None, allowed: frozenset[str]) -> Ordering:
        """From ``"created_at"``, ``"-created_at"`` or ``"created_at:desc"``."""
        if not text:
            return cls()
        descending = text.startswith("-") or text.endswith(":desc")
        name = text.lstrip("-+").removesuffix(":desc").removesuffix(":asc")
        if name not in allowed:
            raise ValidationError(
                f"cannot order by '{name}'; expected one of: {', '.join(sorted(allowed))}"
            )
        return cls(name, descending)

    @property
    def nulls_first(self) -> bool:
        """Records whose field is not set come last ascending, first descending (as
        PostgreSQL orders NULLs); every adapter orders them so."""
        return self.descending

    def key(self, value: Any, number: int) -> tuple[Any, ...]:
        """Where a record with ``value`` (created ``number``-th) stands in ascending order:
        by value, not set last, ties by creation order. Descending is its exact reverse."""
        return (value is None, value if value is not None else 0, number)

    def comes_after(self, key: tuple[Any, ...], cursor: tuple[Any, ...]) -> bool:
        """Whether a record at ``key`` comes after one at ``cursor`` in this order."""
        return key < cursor if self.descending else key > cursor
