"""Repositories over a :class:`MemoryStore`, recording how to undo each change.

Entities are copied in and out, so a caller's changes reach the store only
through ``add``/``update``, exactly as with a database.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from simdock.domain import (
    ApiToken,
    Artifact,
    Job,
    LogLine,
    Machine,
    MachineStatus,
    MetricPoint,
    Payload,
    Report,
    ReportStatus,
    Run,
    RunStatus,
    User,
    job_status,
)
from simdock.domain.status import CANCELLABLE_RUN_STATUSES
from simdock.errors import ConcurrencyConflict, Conflict, NotFound
from simdock.paging import Ordering, Page, PageRequest
from simdock.selection import JobQuery, RunQuery
from simdock.tallies import RunOutline, RunStatistics, RunTally
from simdock_adapters.memory.store import MemoryStore

Undo = Callable[[], None]
T = TypeVar("T")

_JSON_FIELDS = ("metadata", "parameters", "result", "input_files")


def _clone(entity: T) -> T:
    """A copy sharing nothing mutable with ``entity``, as a database round trip would give."""
    clone = object.__new__(type(entity))  # copy.copy, without its generic machinery
    clone.__dict__.update(entity.__dict__)
    for name in _JSON_FIELDS:
        value = getattr(clone, name, None)
        if isinstance(value, dict):
            setattr(clone, name, _json_copy(value) if value else {})
        elif isinstance(value, Payload) and isinstance(value.inline, dict | list):
            setattr(clone, name, Payload(_json_copy(value.inline), value.blob_key, value.size))
    return clone


def _json_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    return value


def _page(items: list[T], order: Ordering | None, page: PageRequest) -> Page[T]:
    if order is not None:
        items = _sorted(items, order)
    if page.after is None or order is None:
        chosen = items[page.offset:page.offset + page.page_size]
    else:
        page.check_order(order)
        cursor = _sort_key(order, page.after.value, page.after.number)
        later = [item for item in items
                 if (_key(item, order)[:3] < cursor if order.descending
                     else _key(item, order)[:3] > cursor)]
        chosen = later[:page.page_size]
    position = page.next_position(chosen, len(items), order) if order is not None else None
    return Page(chosen, len(items), page.page, page.page_size, position)


def _sorted(items: list[T], order: Ordering) -> list[T]:
    return sorted(items, key=lambda item: _key(item, order), reverse=order.descending)


def _key(item: Any, order: Ordering) -> tuple[Any, ...]:
    # None sorts last ascending, first descending, as PostgreSQL does; ties go by
    # creation order (the number), as in the SQL adapter, then by id.
    return (*_sort_key(order, getattr(item, order.field), getattr(item, "number", None) or 0),
            item.id)


def _sort_key(order: Ordering, value: Any, number: int) -> tuple[Any, ...]:
    return (value is None, value if value is not None else 0, number)


class _Repository:
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


class MemoryJobRepository(_Repository):
    def add(self, job: Job, spec: Payload | None = None) -> None:
        if job.id in self.store.jobs:
            raise Conflict(f"job '{job.id}' already exists")
        job.number = self.store.next_number("job")
        self._put(self.store.jobs, job.id, _clone(job))
        self._put(self.store.job_numbers, job.number, job.id)
        if spec is not None:
            self._put(self.store.job_specs, job.id, Payload(
                _json_copy(spec.inline), spec.blob_key, spec.size))

    def spec(self, job_id: str) -> Payload | None:
        spec = self.store.job_specs.get(job_id)
        return Payload(_json_copy(spec.inline), spec.blob_key, spec.size) if spec else None

    def specs(self, job_ids: Sequence[str]) -> dict[str, Payload]:
        return {job_id: spec for job_id in dict.fromkeys(job_ids)
                if (spec := self.spec(job_id)) is not None}

    def get(self, job_id: str) -> Job | None:
        job = self.store.jobs.get(job_id)
        return _clone(job) if job else None

    def get_many(self, job_ids: Sequence[str]) -> dict[str, Job]:
        return {job_id: job for job_id in dict.fromkeys(job_ids)
                if (job := self.get(job_id)) is not None}

    def get_by_number(self, number: int) -> Job | None:
        job_id = self.store.job_numbers.get(number)
        return self.get(job_id) if job_id else None

    def list(self, query: JobQuery) -> Page[Job]:
        jobs: Iterable[Job] = self.store.jobs.values()
        if query.owner_id is not None:
            jobs = (j for j in jobs if j.owner_id == query.owner_id)
        if query.simulation_type is not None:
            jobs = (j for j in jobs if j.simulation_type == query.simulation_type)
        if query.tag is not None:
            jobs = (j for j in jobs if query.tag in j.tags)
        if query.tags:
            jobs = (j for j in jobs if set(query.tags) <= set(j.tags))
        if query.created_from is not None:
            jobs = (j for j in jobs if j.created_at >= query.created_from)
        if query.created_before is not None:
            jobs = (j for j in jobs if j.created_at < query.created_before)
        selected = list(jobs)
        if query.machine_id is not None:
            selected = [j for j in selected if any(
                self.store.runs[r].machine_id == query.machine_id
                for r in self.store.runs_by_job[j.id])]
        if query.statuses is not None:
            selected = [j for j in selected
                        if job_status(self._counts(j.id)) in query.statuses]
        page = _page(selected, query.order, query.page)
        return dataclasses.replace(page, items=[_clone(j) for j in page.items])

    def update(self, job: Job) -> None:
        stored = self.store.jobs.get(job.id)
        if stored is None:
            raise NotFound("job", job.id)
        self._put(self.store.jobs, job.id,
                  dataclasses.replace(_clone(job), run_count=stored.run_count))

    def reserve_runs(self, job_id: str, count: int) -> int:
        stored = self.store.jobs.get(job_id)
        if stored is None:
            raise NotFound("job", job_id)
        self._put(self.store.jobs, job_id,
                  dataclasses.replace(_clone(stored), run_count=stored.run_count + count))
        return stored.run_count

    def delete(self, job_id: str) -> None:
        job = self.store.jobs.get(job_id)
        if job is None:
            raise NotFound("job", job_id)
        for run_id in self.store.runs_by_job.get(job_id, []):
            run = self.store.runs[run_id]
            for table in (self.store.logs, self.store.metrics, self.store.artifacts):
                self._pop(table, run_id)
            self._pop(self.store.run_numbers, run.number)
            self._pop(self.store.runs, run_id)
        self._pop(self.store.runs_by_job, job_id)
        self._pop(self.store.job_numbers, job.number)
        self._pop(self.store.job_specs, job_id)
        self._pop(self.store.jobs, job_id)

    def _counts(self, job_id: str) -> dict[RunStatus, int]:
        return Counter(self.store.runs[r].status for r in self.store.runs_by_job[job_id])


class MemoryRunRepository(_Repository):
    def add_many(self, runs: Sequence[Run]) -> None:
        seen: set[str] = set()
        for run in runs:
            if run.id in self.store.runs or run.id in seen:
                raise Conflict(f"run '{run.id}' already exists")
            seen.add(run.id)
        for run in runs:
            run.number = self.store.next_number("run")
            self.store.runs[run.id] = _clone(run)
            self.store.run_numbers[run.number] = run.id
            self.store.runs_by_job[run.job_id].append(run.id)
            if run.status is RunStatus.QUEUED:
                self.store.queued.push(run)
        added = [(r.id, r.number, r.job_id) for r in runs]

        def forget() -> None:
            removed: dict[str, set[str]] = {}
            for run_id, number, job_id in added:
                self.store.runs.pop(run_id, None)
                self.store.run_numbers.pop(number, None)  # type: ignore[arg-type]
                removed.setdefault(job_id, set()).add(run_id)
            for job_id, run_ids in removed.items():
                self.store.runs_by_job[job_id] = [
                    r for r in self.store.runs_by_job[job_id] if r not in run_ids]

        self.undo.append(forget)

    def get(self, run_id: str) -> Run | None:
        run = self.store.runs.get(run_id)
        return _clone(run) if run else None

    def get_by_number(self, number: int) -> Run | None:
        run_id = self.store.run_numbers.get(number)
        return self.get(run_id) if run_id else None

    def get_with_job(self, run_id: str) -> tuple[Run, Job] | None:
        run = self.store.runs.get(run_id)
        return (_clone(run), _clone(self.store.jobs[run.job_id])) if run is not None else None

    def for_job(self, job_id: str) -> list[Run]:
        runs = [self.store.runs[r] for r in self.store.runs_by_job.get(job_id, [])]
        return [_clone(r) for r in sorted(runs, key=lambda r: r.index)]

    def list(self, query: RunQuery) -> Page[Run]:
        runs: Iterable[Run]
        if query.job_id is not None:
            runs = (self.store.runs[r] for r in self.store.runs_by_job.get(query.job_id, []))
        else:
            runs = self.store.runs.values()
        if query.owner_id is not None:
            runs = (r for r in runs if r.owner_id == query.owner_id)
        if query.statuses is not None:
            statuses = query.statuses
            runs = (r for r in runs if r.status in statuses)
        if query.simulation_type is not None:
            runs = (r for r in runs if r.simulation_type == query.simulation_type)
        if query.machine_id is not None:
            runs = (r for r in runs if r.machine_id == query.machine_id)
        if query.tag is not None:
            tag = query.tag
            runs = (r for r in runs if tag in self.store.jobs[r.job_id].tags)
        page = _page(list(runs), query.order, query.page)
        return dataclasses.replace(page, items=[_clone(r) for r in page.items])

    def update(self, run: Run) -> None:
        stored = self.store.runs.get(run.id)
        if stored is None:
            raise NotFound("run", run.id)
        if stored.version != run.version:
            raise ConcurrencyConflict(f"run '{run.id}' was changed by someone else")
        run.version += 1
        kept = _clone(run)
        if run.status is RunStatus.RUNNING and stored.status is RunStatus.RUNNING:
            kept.lease_expires_at = stored.lease_expires_at  # renewed by heartbeats only
        self._put(self.store.runs, run.id, kept)
        if run.status is RunStatus.QUEUED and stored.status is not RunStatus.QUEUED:
            self.store.queued.push(run)

    def claim(self, run_id: str, worker: str, now: datetime,
              lease_until: datetime | None = None) -> Run | None:
        stored = self.store.runs.get(run_id)
        if stored is None or stored.status is not RunStatus.QUEUED:
            return None
        claimed = _clone(stored)
        claimed.start(now, worker, lease_until)
        claimed.version += 1
        self._put(self.store.runs, run_id, claimed)
        return _clone(claimed)

    def next_queued_owner(self, after: str | None = None) -> str | None:
        return self.store.queued.next_owner(after, self.store.is_queued)

    def next_queued_job(self, owner_id: str, after: str | None = None) -> str | None:
        return self.store.queued.next_job(owner_id, after, self.store.is_queued)

    def claim_queued(self, owner_id: str, job_id: str, worker: str, now: datetime,
                     limit: int = 1, lease_until: datetime | None = None) -> Sequence[Run]:
        taken = [self.store.runs[run_id]
                 for run_id in self.store.queued.pop(job_id, limit, self.store.is_queued)]
        claimed = [run for run in (self.claim(r.id, worker, now, lease_until) for r in taken)
                   if run]
        queued = self.store.queued

        def put_back() -> None:
            for run in taken:
                queued.push(run)

        self.undo.append(put_back)
        return claimed

    def cancel_unfinished(self, now: datetime, reason: str, job_id: str | None = None,
                          run_ids: Sequence[str] | None = None) -> Sequence[str]:
        wanted = None if run_ids is None else set(run_ids)
        cancelled = []
        for run in sorted(self.store.runs.values(), key=lambda r: (r.job_id, r.index)):
            if (job_id is not None and run.job_id != job_id) \
                    or (wanted is not None and run.id not in wanted) \
                    or run.status not in CANCELLABLE_RUN_STATUSES:
                continue
            changed = _clone(run)
            changed.cancel(now, reason)
            changed.version += 1
            self._put(self.store.runs, run.id, changed)
            cancelled.append(run.id)
        return cancelled

    def renew(self, worker: str, attempts: Mapping[str, int], until: datetime) -> set[str]:
        held = set()
        for run_id, attempt in attempts.items():
            stored = self.store.runs.get(run_id)
            if stored is not None and stored.held_by(worker, attempt):
                renewed = _clone(stored)
                renewed.lease_expires_at = until
                self._put(self.store.runs, run_id, renewed)
                held.add(run_id)
        return held

    def lapsed(self, now: datetime, limit: int = 100) -> Sequence[Run]:
        lapsed = sorted((r for r in self.store.runs.values() if r.status is RunStatus.RUNNING
                         and r.lease_expires_at is not None and r.lease_expires_at < now),
                        key=lambda r: r.lease_expires_at or now)
        return [_clone(r) for r in lapsed[:limit]]

    def counts(self, owner_id: str | None = None, job_id: str | None = None
               ) -> dict[RunStatus, int]:
        runs: Iterable[Run]
        if job_id is not None:
            runs = (self.store.runs[r] for r in self.store.runs_by_job.get(job_id, []))
        else:
            runs = self.store.runs.values()
        if owner_id is not None:
            runs = (r for r in runs if r.owner_id == owner_id)
        return dict(Counter(r.status for r in runs))

    def outline(self, job_id: str) -> RunOutline:
        return RunOutline.of([self.store.runs[r] for r in self.store.runs_by_job.get(job_id, [])])

    def tally_by_job(self, job_ids: Sequence[str]) -> dict[str, RunTally]:
        tallies: dict[str, RunTally] = {}
        for job_id in job_ids:
            counts: Counter[RunStatus] = Counter()
            progress: dict[RunStatus, float] = {}
            for run_id in self.store.runs_by_job.get(job_id, []):
                run = self.store.runs[run_id]
                counts[run.status] += 1
                progress[run.status] = progress.get(run.status, 0.0) + run.progress
            tallies[job_id] = RunTally(dict(counts), progress)
        return tallies

    def statistics(self, owner_id: str | None = None) -> RunStatistics:
        runs = [r for r in self.store.runs.values()
                if owner_id is None or r.owner_id == owner_id]
        durations = [d for r in runs if r.terminal and (d := r.duration_seconds) is not None]
        counts = dict(Counter(r.status for r in runs))
        mean = sum(durations) / len(durations) if durations else None
        return RunStatistics(counts, mean, len(runs))


class MemoryReportRepository(_Repository):
    def add(self, report: Report) -> None:
        if report.id in self.store.reports:
            raise Conflict(f"report '{report.id}' already exists")
        self._put(self.store.reports, report.id, _clone(report))

    def get(self, report_id: str) -> Report | None:
        report = self.store.reports.get(report_id)
        return _clone(report) if report else None

    def list(self, owner_id: str | None, statuses: frozenset[ReportStatus] | None,
             page: PageRequest) -> Page[Report]:
        reports = [r for r in self.store.reports.values()
                   if (owner_id is None or r.owner_id == owner_id)
                   and (statuses is None or r.status in statuses)]
        result = _page(reports, Ordering("created_at", True), page)
        return dataclasses.replace(result, items=[_clone(r) for r in result.items])

    def update(self, report: Report) -> None:
        stored = self.store.reports.get(report.id)
        if stored is None:
            raise NotFound("report", report.id)
        if stored.version != report.version:
            raise ConcurrencyConflict(f"report '{report.id}' was changed by someone else")
        report.version += 1
        self._put(self.store.reports, report.id, _clone(report))


class MemoryMachineRepository(_Repository):
    def add(self, machine: Machine) -> None:
        if machine.id in self.store.machines:
            raise Conflict(f"machine '{machine.id}' already exists")
        self._put(self.store.machines, machine.id, _clone(machine))

    def get(self, machine_id: str) -> Machine | None:
        machine = self.store.machines.get(machine_id)
        return _clone(machine) if machine else None

    def list(self, status: MachineStatus | None, page: PageRequest) -> Page[Machine]:
        machines = [m for m in self.store.machines.values()
                    if status is None or m.status is status]
        result = _page(machines, Ordering("created_at", False), page)
        return dataclasses.replace(result, items=[_clone(m) for m in result.items])

    def update(self, machine: Machine) -> None:
        stored = self.store.machines.get(machine.id)
        if stored is None:
            raise NotFound("machine", machine.id)
        if stored.version != machine.version:
            raise ConcurrencyConflict(f"machine '{machine.id}' was changed by someone else")
        machine.version += 1
        self._put(self.store.machines, machine.id, _clone(machine))


class MemoryUserRepository(_Repository):
    def add(self, user: User) -> None:
        if user.id in self.store.users:
            raise Conflict(f"user '{user.id}' already exists")
        if user.email_key in self.store.users_by_email:
            raise Conflict(f"a user with email '{user.email}' already exists")
        if user.email_skeleton in self.store.users_by_skeleton:
            raise Conflict(f"the email '{user.email}' looks like another user's")
        user.number = self.store.next_number("user")
        self._put(self.store.users, user.id, _clone(user))
        self._put(self.store.users_by_email, user.email_key, user.id)
        if user.email_skeleton is not None:
            self._put(self.store.users_by_skeleton, user.email_skeleton, user.id)

    def get(self, user_id: str) -> User | None:
        user = self.store.users.get(user_id)
        return _clone(user) if user else None

    def get_by_email_key(self, key: str) -> User | None:
        user_id = self.store.users_by_email.get(key)
        return self.get(user_id) if user_id else None

    def get_by_email_skeleton(self, skeleton: str) -> User | None:
        user_id = self.store.users_by_skeleton.get(skeleton)
        return self.get(user_id) if user_id else None

    def update(self, user: User) -> None:
        if user.id not in self.store.users:
            raise NotFound("user", user.id)
        self._put(self.store.users, user.id, _clone(user))


class MemoryLoginFailureRepository(_Repository):
    def add(self, key: str, at: datetime) -> None:
        self._put(self.store.login_failures, key, [*self.store.login_failures[key], at])

    def since(self, key: str, after: datetime) -> list[datetime]:
        return sorted(at for at in self.store.login_failures.get(key, []) if at > after)

    def forget(self, key: str, before: datetime | None = None) -> None:
        kept = [] if before is None else [
            at for at in self.store.login_failures.get(key, []) if at >= before]
        self._put(self.store.login_failures, key, kept)

    def discard(self, key: str, at: datetime) -> None:
        kept = list(self.store.login_failures.get(key, []))
        if at in kept:
            kept.remove(at)
            self._put(self.store.login_failures, key, kept)

    def remember_success(self, key: str, at: datetime) -> None:
        self._put(self.store.login_successes, key, at)

    def last_success(self, key: str) -> datetime | None:
        return self.store.login_successes.get(key)


class MemoryApiTokenRepository(_Repository):
    def add(self, token: ApiToken) -> None:
        if token.id in self.store.tokens or token.token_hash in self.store.tokens_by_hash:
            raise Conflict(f"token '{token.id}' already exists")
        self._put(self.store.tokens, token.id, _clone(token))
        self._put(self.store.tokens_by_hash, token.token_hash, token.id)

    def get(self, token_id: str) -> ApiToken | None:
        token = self.store.tokens.get(token_id)
        return _clone(token) if token else None

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        token_id = self.store.tokens_by_hash.get(token_hash)
        return self.get(token_id) if token_id else None

    def get_with_owner(self, token_hash: str) -> tuple[ApiToken, User] | None:
        token = self.get_by_hash(token_hash)
        owner = self.store.users.get(token.owner_id) if token is not None else None
        return (token, _clone(owner)) if token is not None and owner is not None else None

    def list(self, owner_id: str) -> list[ApiToken]:
        tokens = [t for t in self.store.tokens.values() if t.owner_id == owner_id]
        return [_clone(t) for t in sorted(tokens, key=lambda t: (t.created_at, t.id),
                                          reverse=True)]

    def update(self, token: ApiToken) -> None:
        if token.id not in self.store.tokens:
            raise NotFound("token", token.id)
        self._put(self.store.tokens, token.id, _clone(token))


class MemoryLogRepository(_Repository):
    def append(self, run_id: str, messages: Sequence[tuple[datetime, str, str]]
               ) -> list[LogLine]:
        lines = self.store.logs[run_id]
        start = len(lines)
        new = [LogLine(run_id, start + i + 1, at, message, stream)
               for i, (at, stream, message) in enumerate(messages)]
        lines.extend(new)
        self.undo.append(lambda: lines.__delitem__(slice(start, None)))
        return new

    def list(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogLine]:
        lines = self.store.logs.get(run_id, [])[max(after_seq, 0):]
        return lines[:limit] if limit is not None else list(lines)


class MemoryMetricRepository(_Repository):
    def append(self, points: Sequence[MetricPoint]) -> None:
        touched: dict[str, int] = {}
        for point in points:
            series = self.store.metrics[point.run_id]
            touched.setdefault(point.run_id, len(series))
            series.append(point)

        def undo() -> None:
            for run_id, length in touched.items():
                del self.store.metrics[run_id][length:]

        self.undo.append(undo)

    def discard(self, run_ids: Sequence[str]) -> None:
        dropped = {run_id: self.store.metrics.pop(run_id) for run_id in set(run_ids)
                   if run_id in self.store.metrics}

        def undo() -> None:
            for run_id, series in dropped.items():
                self.store.metrics[run_id][:0] = series

        self.undo.append(undo)

    def list(self, run_id: str, name: str | None = None, since_step: int | None = None,
             since: datetime | None = None) -> list[MetricPoint]:
        points = [p for p in self.store.metrics.get(run_id, [])
                  if (name is None or p.name == name)
                  and (since_step is None or p.step > since_step)
                  and (since is None or p.at > since)]
        return sorted(points, key=lambda p: (p.name, p.step, p.at))


class MemoryArtifactRepository(_Repository):
    def add(self, artifact: Artifact) -> None:
        self._put(self.store.artifacts[artifact.run_id], artifact.name, artifact)

    def list(self, run_id: str) -> list[Artifact]:
        return sorted(self.store.artifacts.get(run_id, {}).values(), key=lambda a: a.name)

    def get(self, run_id: str, name: str) -> Artifact | None:
        return self.store.artifacts.get(run_id, {}).get(name)
