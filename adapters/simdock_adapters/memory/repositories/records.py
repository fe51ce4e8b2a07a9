"""What runs record, in memory: log lines, metric points, artifacts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from simdock.domain import Artifact, LogLine, MetricPoint
from simdock_adapters.memory.repositories.base import MemoryRepository


class MemoryLogRepository(MemoryRepository):
    def append(self, run_id: str, messages: Sequence[tuple[datetime, str, str]]
               ) -> list[LogLine]:
        lines = self.store.logs[run_id]
        start = len(lines)
        new = [LogLine(run_id, start + i + 1, at, message, stream)
               for i, (at, stream, message) in enumerate(messages)]
        lines.extend(new)
        self.undo.append(lambda: lines.__delitem__(slice(start, None)))
        return new

    def list(self, run_id: str, after_seq: int = 0, limit: int | None = None,
             containing: str | None = None, through_seq: int | None = None
             ) -> list[LogLine]:
        lines = self.store.logs.get(run_id, [])[max(after_seq, 0):through_seq]
        if containing is not None:
            wanted = containing.casefold()
            lines = [line for line in lines if wanted in line.message.casefold()]
        return lines[:limit] if limit is not None else list(lines)

    def last_seq(self, run_id: str) -> int:
        return len(self.store.logs.get(run_id, []))


class MemoryMetricRepository(MemoryRepository):
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


class MemoryArtifactRepository(MemoryRepository):
    def add(self, artifact: Artifact) -> None:
        self._put(self.store.artifacts[artifact.run_id], artifact.name, artifact)

    def add_many(self, artifacts: Sequence[Artifact]) -> None:
        for artifact in artifacts:
            self.add(artifact)

    def for_runs(self, run_ids: Collection[str]) -> dict[str, list[Artifact]]:
        return {run_id: self.list(run_id) for run_id in run_ids
                if self.store.artifacts.get(run_id)}


    def list(self, run_id: str) -> list[Artifact]:
        return sorted(self.store.artifacts.get(run_id, {}).values(), key=lambda a: a.name)

    def get(self, run_id: str, name: str) -> Artifact | None:
        return self.store.artifacts.get(run_id, {}).get(name)
