"""The points of replicated jobs, in memory (a unit of work holds the store's lock, so a
point is held by whoever has it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from simdock.domain.replication import ReplicatePoint
from simdock.errors import Conflict, NotFound
from simdock_adapters.memory.repositories.base import MemoryRepository


class MemoryPointRepository(MemoryRepository):
    def add_many(self, points: Sequence[ReplicatePoint]) -> None:
        for point in points:
            key = (point.job_id, point.point)
            if point.job_id not in self.store.jobs:
                raise NotFound("job", point.job_id)
            if key in self.store.points:
                raise Conflict(f"point {point.point} of job '{point.job_id}' already exists")
            self._put(self.store.points, key, dataclasses.replace(point))

    def lock(self, job_id: str, points: Collection[int]) -> dict[int, ReplicatePoint]:
        found = ((number, self.store.points.get((job_id, number))) for number in sorted(points))
        return {number: dataclasses.replace(point) for number, point in found
                if point is not None}

    def update(self, points: Sequence[ReplicatePoint]) -> None:
        for point in points:
            key = (point.job_id, point.point)
            if key not in self.store.points:
                raise NotFound("point", f"{point.job_id}#{point.point}")
            self._put(self.store.points, key, dataclasses.replace(point))

    def list(self, job_id: str) -> list[ReplicatePoint]:
        return sorted((dataclasses.replace(p) for (job, _), p in self.store.points.items()
                       if job == job_id), key=lambda p: p.point)
