"""Jobs in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from simdock.domain import Job, Payload
from simdock.domain.criteria import all_hold
from simdock.errors import Conflict, NotFound
from simdock.paging import Page
from simdock.selection import JobQuery
from simdock_adapters.memory.repositories.base import (
    MemoryRepository,
    StoreFacts,
    clone,
    json_copy,
    paged,
)


class MemoryJobRepository(MemoryRepository):
    def add(self, job: Job, spec: Payload | None = None) -> None:
        if job.id in self.store.jobs:
            raise Conflict(f"job '{job.id}' already exists")
        job.number = self.store.next_number("job")
        self._put(self.store.jobs, job.id, clone(job))
        self._put(self.store.job_numbers, job.number, job.id)
        if spec is not None:
            self._put(self.store.job_specs, job.id, Payload(
                json_copy(spec.inline), spec.blob_key, spec.size))

    def spec(self, job_id: str) -> Payload | None:
        spec = self.store.job_specs.get(job_id)
        return Payload(json_copy(spec.inline), spec.blob_key, spec.size) if spec else None

    def specs(self, job_ids: Sequence[str]) -> dict[str, Payload]:
        return {job_id: spec for job_id in dict.fromkeys(job_ids)
                if (spec := self.spec(job_id)) is not None}

    def get(self, job_id: str) -> Job | None:
        job = self.store.jobs.get(job_id)
        return clone(job) if job else None

    def get_many(self, job_ids: Sequence[str]) -> dict[str, Job]:
        return {job_id: job for job_id in dict.fromkeys(job_ids)
                if (job := self.get(job_id)) is not None}

    def get_by_number(self, number: int) -> Job | None:
        job_id = self.store.job_numbers.get(number)
        return self.get(job_id) if job_id else None

    def list(self, query: JobQuery) -> Page[Job]:
        conditions, facts = query.conditions(), StoreFacts(self.store)
        selected = [job for job in self.store.jobs.values()
                    if all_hold(conditions, job, facts)]
        page = paged(selected, query.order, query.page)
        return dataclasses.replace(page, items=[clone(j) for j in page.items])

    def update(self, job: Job) -> None:
        stored = self.store.jobs.get(job.id)
        if stored is None:
            raise NotFound("job", job.id)
        self._put(self.store.jobs, job.id,
                  dataclasses.replace(clone(job), run_count=stored.run_count))

    def reserve_runs(self, job_id: str, count: int) -> int:
        stored = self.store.jobs.get(job_id)
        if stored is None:
            raise NotFound("job", job_id)
        self._put(self.store.jobs, job_id,
                  dataclasses.replace(clone(stored), run_count=stored.run_count + count))
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
        for key in [key for key in self.store.points if key[0] == job_id]:
            self._pop(self.store.points, key)
        self._pop(self.store.job_numbers, job.number)
        self._pop(self.store.job_specs, job_id)
        self._pop(self.store.jobs, job_id)
