"""What every in-memory repository shares: the store, undo on rollback, copies in and out,
paging in order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from simdock.domain import Job, Payload, RunStatus, job_status
from simdock.paging import Ordering, Page, PageRequest
from simdock_adapters.memory.store import MemoryStore

Undo = Callable[[], None]
T = TypeVar("T")


JSON_FIELDS = ("metadata", "parameters", "result", "input_files")


def clone(entity: T) -> T:
    """A copy sharing nothing mutable with ``entity``, as a database round trip would give."""
    copy = object.__new__(type(entity))  # copy.copy, without its generic machinery
    copy.__dict__.update(entity.__dict__)
    for name in JSON_FIELDS:
        value = getattr(copy, name, None)
        if isinstance(value, dict):
            setattr(copy, name, json_copy(value) if value else {})
        elif isinstance(value, Payload) and isinstance(value.inline, dict | list):
            setattr(copy, name, Payload(json_copy(value.inline), value.blob_key, value.size))
    return copy


def json_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def paged(items: list[T], order: Ordering | None, page: PageRequest) -> Page[T]:
    """One page of ``items`` in ``order``, by offset or after the page's cursor."""
    if order is not None:
        items = sorted(items, key=lambda item: _key(item, order), reverse=order.descending)
    if page.after is None or order is None:
        chosen = items[page.offset:page.offset + page.page_size]
    else:
        page.check_order(order)
        cursor = order.key(page.after.value, page.after.number)
        chosen = [item for item in items
                  if order.comes_after(_key(item, order)[:3], cursor)][:page.page_size]
    position = page.next_position(chosen, len(items), order) if order is not None else None
    return Page(chosen, len(items), page.page, page.page_size, position)


def _key(item: Any, order: Ordering) -> tuple[Any, ...]:
    """The order's key for ``item`` (its number breaking ties, as in SQL), then its id."""
    return (*order.key(getattr(item, order.field), getattr(item, "number", None) or 0),
            item.id)


class StoreFacts:
    """What the store knows of a record's job, for the conditions on it
    (:class:`simdock.domain.criteria.Facts`)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def tags(self, record: Any) -> Collection[str]:
        job = record if isinstance(record, Job) else self.store.jobs[record.job_id]
        return job.tags

    def machines(self, record: Any) -> Collection[str | None]:
        return {self.store.runs[r].machine_id for r in self.store.runs_by_job[record.id]}

    def job_status(self, record: Any) -> RunStatus:
        return job_status(Counter(self.store.runs[r].status
                                  for r in self.store.runs_by_job[record.id]))


class MemoryRepository:
    def __init__(self, store: MemoryStore, undo: list[Undo]) -> None:
        self.store = store
        self.undo = undo

    def _put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        missing = object()
        previous = table.get(key, missing)
        table[key] = value
        if previous is missing:
            self.undo.append(lambda: table.pop(key, None))
        else:
            self.undo.append(lambda: table.__setitem__(key, previous))

    def _pop(self, table: dict[Any, Any], key: Any) -> None:
        """Remove ``key`` (if there), putting it back on rollback."""
        if key in table:
            previous = table.pop(key)
            self.undo.append(lambda: table.__setitem__(key, previous))
