"""Runs in memory: claims, leases, the fair queue's look-ups, cancels, counts and outlines."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from simdock.codec import JsonText
from simdock.domain import Job, Payload, Run, RunStatus, criteria
from simdock.domain.criteria import all_hold
from simdock.domain.records import RunAttempt, attempt_outcome
from simdock.domain.run_identity import Reusable
from simdock.domain.status import CANCELLABLE_RUN_STATUSES
from simdock.errors import ConcurrencyConflict, Conflict, NotFound
from simdock.paging import Page
from simdock.selection import RunQuery
from simdock.tallies import RunLine, RunOutline, RunStatistics, RunTally
from simdock_adapters.memory.repositories.base import MemoryRepository, StoreFacts, clone, paged


class MemoryRunRepository(MemoryRepository):
    def add_many(self, runs: Sequence[Run]) -> None:
        seen: set[str] = set()
        for run in runs:
            if run.id in self.store.runs or run.id in seen:
                raise Conflict(f"run '{run.id}' already exists")
            seen.add(run.id)
        for run in runs:
            run.number = self.store.next_number("run")
            self.store.runs[run.id] = clone(run)
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
        return clone(run) if run else None

    def get_by_number(self, number: int) -> Run | None:
        run_id = self.store.run_numbers.get(number)
        return self.get(run_id) if run_id else None

    def get_with_job(self, run_id: str) -> tuple[Run, Job] | None:
        run = self.store.runs.get(run_id)
        return (clone(run), clone(self.store.jobs[run.job_id])) if run is not None else None

    def for_job(self, job_id: str) -> list[Run]:
        runs = [self.store.runs[r] for r in self.store.runs_by_job.get(job_id, [])]
        return [clone(r) for r in sorted(runs, key=lambda r: r.index)]

    def list(self, query: RunQuery) -> Page[Run]:
        runs: Iterable[Run]
        if query.job_id is not None:
            runs = (self.store.runs[r] for r in self.store.runs_by_job.get(query.job_id, []))
        else:
            runs = self.store.runs.values()
        conditions, facts = query.conditions(), StoreFacts(self.store)
        page = paged([run for run in runs if all_hold(conditions, run, facts)], query.order,
                     query.page)
        return dataclasses.replace(page, items=[clone(r) for r in page.items])

    def list_with_jobs(self, query: RunQuery) -> tuple[Page[Run], dict[str, Job]]:
        found = self.list(query)
        return found, {run.job_id: clone(self.store.jobs[run.job_id]) for run in found.items}

    def update(self, run: Run) -> None:
        stored = self.store.runs.get(run.id)
        if stored is None:
            raise NotFound("run", run.id)
        if stored.version != run.version:
            raise ConcurrencyConflict(f"run '{run.id}' was changed by someone else")
        run.version += 1
        kept = clone(run)
        if run.status is RunStatus.RUNNING and stored.status is RunStatus.RUNNING:
            kept.lease_expires_at = stored.lease_expires_at  # renewed by heartbeats only
        self._put_run(stored, kept)
        if run.status is RunStatus.QUEUED and stored.status is not RunStatus.QUEUED:
            self.store.queued.push(run)

    def claim(self, run_id: str, worker: str, now: datetime,
              lease_until: datetime | None = None) -> Run | None:
        stored = self.store.runs.get(run_id)
        if stored is None or stored.status is not RunStatus.QUEUED:
            return None
        claimed = clone(stored)
        claimed.start(now, worker, lease_until)
        claimed.version += 1
        self._put_run(stored, claimed)
        return clone(claimed)

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
            changed = clone(run)
            changed.cancel(now, reason)
            changed.version += 1
            self._put_run(run, changed)
            cancelled.append(run.id)
        return cancelled

    def renew(self, worker: str, attempts: Mapping[str, int], until: datetime) -> set[str]:
        held = set()
        for run_id, attempt in attempts.items():
            stored = self.store.runs.get(run_id)
            if stored is not None and stored.held_by(worker, attempt):
                renewed = clone(stored)
                renewed.lease_expires_at = until
                self._put(self.store.runs, run_id, renewed)
                held.add(run_id)
        return held

    def lapsed(self, now: datetime, limit: int = 100) -> Sequence[Run]:
        conditions = criteria.lapsed(now)
        lapsed = sorted((r for r in self.store.runs.values() if all_hold(conditions, r)),
                        key=lambda r: r.lease_expires_at or now)
        return [clone(r) for r in lapsed[:limit]]

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

    def reusable(self, owner_id: str, identities: Collection[str]) -> dict[str, Reusable]:
        wanted = set(identities)
        found: dict[str, Reusable] = {}
        for run in sorted(self.store.runs.values(), key=lambda r: r.number or 0):
            if (run.owner_id == owner_id and run.status is RunStatus.SUCCEEDED
                    and run.identity in wanted):
                found.setdefault(run.identity, run.as_reusable())
        return found

    def referenced(self, run_ids: Collection[str]) -> set[str]:
        wanted = set(run_ids)
        return ({run_id for run_id in wanted if run_id in self.store.runs}
                | {run.reused_from for run in self.store.runs.values()
                   if run.reused_from in wanted})

    def attempts(self, run_id: str) -> Sequence[RunAttempt]:
        return sorted((a for (run, _), a in self.store.attempts.items() if run == run_id),
                      key=lambda a: a.attempt)

    def _put_run(self, before: Run, after: Run) -> None:
        """Store ``after`` over ``before``, noting an attempt started or ended, as the SQL
        store's triggers do."""
        self._put(self.store.runs, after.id, after)
        running = RunStatus.RUNNING
        if after.status is running and before.status is not running:
            self._put(self.store.attempts, (after.id, after.attempts), RunAttempt(
                after.id, after.attempts, after.worker, after.started_at))
        elif before.status is running and after.status is not running:
            key = (before.id, before.attempts)
            started = self.store.attempts.get(key)
            if started is not None:
                self._put(self.store.attempts, key, dataclasses.replace(
                    started, ended_at=after.finished_at or after.updated_at,
                    outcome=attempt_outcome(after.status), error=after.error))

    def numeric_results(self, job_id: str, name: str, every: int = 1
                        ) -> Sequence[tuple[int, float]]:
        found = []
        for run_id in self.store.runs_by_job.get(job_id, []):
            run = self.store.runs[run_id]
            if run.status is not RunStatus.SUCCEEDED or run.index % every or run.result is None:
                continue
            value = run.result.inline.get(name) if isinstance(run.result.inline, dict) \
                else None
            if isinstance(value, int | float) and not isinstance(value, bool) \
                    and math.isfinite(value):
                found.append((run.index, float(value)))
        return sorted(found)

    def queued_by_owner(self) -> dict[str, int]:
        return dict(Counter(r.owner_id for r in self.store.runs.values()
                            if r.status is RunStatus.QUEUED))

    def lines(self, job_id: str | None = None, numbers: Sequence[int] = ()
              ) -> Sequence[RunLine]:
        if job_id is not None:
            found = sorted((self.store.runs[r] for r in self.store.runs_by_job.get(job_id, [])),
                           key=lambda run: run.index)
        else:
            ids = (self.store.run_numbers.get(number) for number in dict.fromkeys(numbers))
            found = [self.store.runs[run_id] for run_id in ids if run_id is not None]
        return [_line(run) for run in found]

    def outline(self, job_id: str, with_ids: bool = True) -> RunOutline:
        outline = RunOutline.of([self.store.runs[r]
                                 for r in self.store.runs_by_job.get(job_id, [])])
        return outline if with_ids else dataclasses.replace(outline, ids=[])

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


def _line(run: Run) -> RunLine:
    """A run's line, its inline parameters encoded as the SQL store sends them."""
    parameters = run.parameters
    if parameters is not None and parameters.blob_key is None:
        parameters = Payload(inline=JsonText(json.dumps(parameters.inline)),
                             size=parameters.size)
    return RunLine(run.id, run.number, run.job_id, run.owner_id, run.index, run.status,
                   run.attempts, run.created_at, run.finished_at, parameters,
                   dict(run.metadata))
