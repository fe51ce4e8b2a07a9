"""A job's results as rows: each run's index, status, parameters and result or error,
in index order, for a table of the whole job (the notebook's ``JobHandle.results``, the
dashboard's results download); and as parameter points (the runs that differ only by
seed taken together: the API's summary, the notebook's ``summary()``).

Runs are read a page at a time, so that a sweep of 100,000 runs is streamed, never
held whole: the rows are a generator, and who consumes them decides how far to go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from simdock import codec
from simdock.domain import Run, RunStatus
from simdock.paging import Ordering, PageRequest
from simdock.payloads import PayloadStore
from simdock.ports import Executor
from simdock.report_points import Point, points
from simdock.scope import UnitsOfWork
from simdock.selection import RunQuery
from simdock.usecases.access import load_job
from simdock.usecases.queries import Queries
from simdock.usecases.seeds import Seeds

#: How many runs are read at a time.
PAGE_SIZE = 1000


@dataclass(frozen=True)
class ResultRow:
    """One run of a job as a results table shows it."""

    index: int
    run_id: str
    status: RunStatus
    parameters: dict[str, Any]
    #: The run's result as stored (arrays tagged, see :mod:`simdock.codec`); None unless
    #: it succeeded.
    result: Any
    error: str | None

    def flat(self, decode: Callable[[Any], Any] = codec.plain) -> dict[str, Any]:
        """The row as one mapping: the parameters, then ``run_id`` and ``status``, then
        the result's fields (a result that is not an object under ``result``; a field
        named as a parameter left out) or, for a run that did not succeed, ``error``."""
        row: dict[str, Any] = {**self.parameters, "run_id": self.run_id,
                               "status": self.status.value}
        if self.status is RunStatus.SUCCEEDED:
            result = decode(self.result)
            if isinstance(result, Mapping):
                row.update({k: v for k, v in result.items() if k not in row})
            else:
                row["result"] = result
        else:
            row["error"] = self.error
        return row


@dataclass(frozen=True)
class ResultLayout:
    """The columns a table of a job's results has: the parameters of its first run and
    the fields of its first succeeded run's result (an object; none otherwise), in their
    order. A sweep's runs share them; a run with others keeps them in its full row."""

    parameters: list[str]
    results: list[str]


@dataclass(frozen=True)
class Results:
    """A job's results, row by row."""

    uow: UnitsOfWork
    payloads: PayloadStore
    queries: Queries
    executor: Executor

    def points(self, job_id: str, owner_id: str | None) -> list[Point]:
        """The job's parameter points: its runs grouped by their parameters without their
        seed (as their handler reads them; a replicated job's seed parameter too), each
        numeric result field's n, mean, standard deviation and 95% interval over a point's
        succeeded runs (:mod:`simdock.report_points`)."""
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
        seeds = Seeds(self.queries, self.executor)
        seed = seeds.parameter(job)
        return points([{"job_id": job.id, "status": row.status.value,
                        "parameters": row.parameters, "seed_parameter": seed,
                        "point_parameters": seeds.unseeded(job, row.parameters, seed),
                        "result": codec.plain(row.result)} for row in self._rows(job.id)])

    def job_rows(self, job_id: str, owner_id: str | None) -> Iterator[ResultRow]:
        """The rows of the job's runs in index order; NotFound (raised here, before any
        row) when ``owner_id`` may not see the job."""
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
        return self._rows(job.id)

    def layout(self, job_id: str, owner_id: str | None) -> ResultLayout:
        """The columns of the job's results table (two runs read, whatever its size)."""
        by_index = Ordering("index", descending=False)
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
            first = uow.runs.list(RunQuery(job_id=job.id, order=by_index,
                                           page=PageRequest(1, 1))).items
            succeeded = uow.runs.list(RunQuery(
                job_id=job.id, statuses=frozenset({RunStatus.SUCCEEDED}), order=by_index,
                page=PageRequest(1, 1))).items
        parameters = list(self.queries.runs_parameters(first)[0]) if first else []
        result = self.payloads.load(succeeded[0].result) if succeeded else None
        return ResultLayout(parameters, list(result) if isinstance(result, Mapping) else [])

    def _rows(self, job_id: str) -> Iterator[ResultRow]:
        request = PageRequest(1, PAGE_SIZE)
        order = Ordering("index", descending=False)
        while True:
            with self.uow() as uow:
                page = uow.runs.list(RunQuery(job_id=job_id, order=order, page=request))
            yield from self._page_rows(list(page.items))
            if page.next is None:
                return
            request = PageRequest.following(page.next, PAGE_SIZE)

    def _page_rows(self, runs: list[Run]) -> Iterator[ResultRow]:
        for run, parameters in zip(runs, self.queries.runs_parameters(runs), strict=True):
            succeeded = run.status is RunStatus.SUCCEEDED
            yield ResultRow(run.index, run.id, run.status, parameters,
                            self.payloads.load(run.result) if succeeded else None,
                            None if succeeded else run.error)
