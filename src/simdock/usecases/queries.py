"""Reading jobs, runs and what runs produced."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simdock import codec
from simdock.codec import JsonText
from simdock.domain import (
    Artifact,
    Job,
    LogLine,
    Payload,
    Run,
    RunAttempt,
    RunStatus,
    SweepSpec,
    job_progress,
    job_status,
)
from simdock.domain.resources import Resources
from simdock.domain.text import check_text
from simdock.errors import Conflict, NotFound, ValidationError
from simdock.paging import MAX_PAGE_SIZE, Page, PageRequest
from simdock.payloads import PayloadStore
from simdock.ports import BlobStore
from simdock.repositories import UnitOfWork
from simdock.scope import UnitsOfWork
from simdock.selection import JobQuery, RunQuery
from simdock.specs import SpecCache
from simdock.tallies import RunLine, RunOutline, RunStatistics, RunTally
from simdock.usecases.access import load_job, load_run, named, visible

MAX_LOG_SEQ = 2**31 - 1
#: How many log lines a page holds unless asked otherwise, and at most.
LOG_PAGE_LINES = 1000
MAX_LOG_PAGE_LINES = 10_000
#: The most jobs one bulk action takes on.
MAX_BULK_JOBS = 10_000
#: How many of a log's last lines an error is shown with.
LOG_TAIL_LINES = 20
#: The longest text a log is searched for.
MAX_LOG_SEARCH = 200
#: How many lines of a log one page of a search reads.
LOG_SEARCH_WINDOW = 20_000


@dataclass(frozen=True)
class JobView:
    """A job with its derived status and progress, and the run counts they come from."""

    job: Job
    status: RunStatus
    counts: dict[RunStatus, int]
    #: The mean progress of its runs (0 to 1): how far the work got, not how much stopped.
    progress: float

    @classmethod
    def of(cls, job: Job, tally: RunTally) -> JobView:
        counts = dict(tally.counts)
        return cls(job, job_status(counts), counts, job_progress(counts, tally.progress))

    @property
    def finished(self) -> int:
        return sum(n for s, n in self.counts.items() if s.terminal)

    @property
    def total(self) -> int:
        """How many runs it has: as many as its statuses count. The job is read before its
        runs are counted, and a replicated job's runs are added as others end (the end of a
        batch's last replicate commits with the next batch), so the count may already hold
        runs the job's ``run_count`` as read does not."""
        return max(sum(self.counts.values()), self.job.run_count)

    @property
    def done(self) -> bool:
        """Every run it has ended (never true while the runs a replicate's end added wait)."""
        return self.finished == self.total


@dataclass(frozen=True)
class Queries:
    """Reading jobs, runs and what they recorded, as their owners may see them."""

    uow: UnitsOfWork
    blobs: BlobStore
    payloads: PayloadStore
    specs: SpecCache

    def get_job(self, job_id: str | int, owner_id: str | None) -> JobView:
        """A job (by id or number) with its status and progress."""
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
            tally = uow.runs.tally_by_job([job.id]).get(job.id, RunTally())
        return JobView.of(job, tally)

    def get_job_detail(self, job_id: str | int, owner_id: str | None,
                       with_run_ids: bool = True) -> JobDetail:
        """A job (by id or number) with its status, progress and the outline of its runs
        (with every run's id unless not ``with_run_ids``: a page that lists the runs by
        pages has no use for 100,000 of them)."""
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
            tally = uow.runs.tally_by_job([job.id]).get(job.id, RunTally())
            outline = uow.runs.outline(job.id, with_ids=with_run_ids)
            single = next(iter(uow.runs.for_job(job.id)), None) if job.run_count == 1 \
                else None
        return JobDetail(JobView.of(job, tally), outline,
                         self.run_parameters(single) if single else None)

    def jobs_of(self, runs: list[Run], owner_id: str | None) -> dict[str, Job]:
        """The jobs these runs belong to, by id, read in one look-up."""
        job_ids = list(dict.fromkeys(r.job_id for r in runs))
        with self.uow() as uow:
            found = uow.jobs.get_many(job_ids)
        return {job_id: visible(found.get(job_id), owner_id, "job", job_id) for job_id in job_ids}

    def get_run_and_job(self, run_id: str, owner_id: str | None) -> tuple[Run, Job]:
        """A run and the job it belongs to, read together."""
        with self.uow() as uow:
            found = uow.runs.get_with_job(named(run_id, "run"))
        run = visible(found[0] if found else None, owner_id, "run", run_id)
        assert found is not None
        return run, found[1]

    def list_jobs(self, query: JobQuery) -> Page[JobView]:
        with self.uow() as uow:
            page = uow.jobs.list(query)
            tallies = uow.runs.tally_by_job([j.id for j in page.items])
        views = [JobView.of(j, tallies.get(j.id, RunTally())) for j in page.items]
        return Page(views, page.total, page.page, page.page_size, page.next)

    def matching_job_ids(self, query: JobQuery, limit: int = MAX_BULK_JOBS) -> list[str]:
        """The ids of the jobs ``query`` matches (its page ignored), read page by page in
        its order; a ValidationError past ``limit`` jobs, which no bulk action takes on."""
        found: list[str] = []
        request = PageRequest(1, MAX_PAGE_SIZE)
        while True:
            with self.uow() as uow:
                page = uow.jobs.list(dataclasses.replace(query, page=request))
            if page.total > limit:
                raise ValidationError(f"{page.total} jobs match: at most {limit} are acted on "
                                      "at once; narrow the filter")
            found.extend(job.id for job in page.items)
            if page.next is None:
                return found
            request = PageRequest.following(page.next, MAX_PAGE_SIZE)

    def job_runs(self, job_id: str | int, owner_id: str | None) -> list[Run]:
        """Every run of a job (by id or number), in index order."""
        return self.job_with_runs(job_id, owner_id)[1]

    def get_run(self, run_id: str | int, owner_id: str | None) -> Run:
        with self.uow() as uow:
            return load_run(uow, run_id, owner_id)

    def job_with_runs(self, job_id: str | int, owner_id: str | None
                      ) -> tuple[Job, list[Run]]:
        """A job (by id or number) and all its runs, in index order."""
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
            return job, uow.runs.for_job(job.id)

    def runs_with_jobs(self, run_ids: list[str | int], owner_id: str | None
                       ) -> list[tuple[Run, Job]]:
        """These runs (by id or number) with their jobs; runs that do not exist, or that
        ``owner_id`` may not see, are left out."""
        found: list[Run] = []
        with self.uow() as uow:
            for ref in dict.fromkeys(run_ids):
                try:
                    found.append(load_run(uow, ref, owner_id))
                except NotFound:
                    continue
            jobs = uow.jobs.get_many([run.job_id for run in found])
        return [(run, jobs[run.job_id]) for run in found if run.job_id in jobs]

    def list_runs(self, query: RunQuery) -> Page[Run]:
        with self.uow() as uow:
            return uow.runs.list(query)

    def list_runs_with_jobs(self, query: RunQuery) -> tuple[Page[Run], dict[str, Job]]:
        """A page of runs, and their jobs read with them (in the same statement where the
        store can)."""
        with self.uow() as uow:
            return uow.runs.list_with_jobs(query)

    def finished_run(self, run_id: str, owner_id: str | None) -> Run:
        """A run whose outputs can be read; Conflict while it has not finished."""
        run = self.get_run(run_id, owner_id)
        if not run.terminal:
            raise Conflict(f"run '{run_id}' is {run.status.value}: its results are not ready")
        return run

    def succeeded_run(self, run_id: str, owner_id: str | None) -> Run:
        """A run whose results can be downloaded; Conflict while it runs, and for a run that
        failed or was cancelled (its error says why: it has no results to give)."""
        run = self.finished_run(run_id, owner_id)
        if run.status is not RunStatus.SUCCEEDED:
            reason = f": {run.error}" if run.error else ""
            raise Conflict(f"run '{run_id}' {run.status.value} and has no results{reason}")
        return run

    def finished_job(self, job_id: str, owner_id: str | None
                     ) -> tuple[JobView, list[Run]]:
        """A job whose runs have all finished, with them; Conflict while any still runs."""
        view = self.get_job(job_id, owner_id)
        if not view.done:
            raise Conflict(f"job '{job_id}' is {view.status.value}: its results are not ready")
        return view, self.job_runs(job_id, owner_id)

    def run_parameters(self, run: Run) -> dict[str, Any]:
        """The parameter set of a run: derived from its job's specification by its index
        (runs stored before specifications keep their own)."""
        return self.runs_parameters([run])[0]

    def runs_parameters(self, runs: list[Run]) -> list[dict[str, Any]]:
        """The parameter sets of these runs (a page of them, from many jobs), their jobs'
        specifications read in one look-up."""
        specs = self.job_specs([r.job_id for r in runs if r.parameters is None])
        return [dict(self.payloads.load(r.parameters)) if r.parameters is not None
                else specs[r.job_id].parameters(r.index) for r in runs]

    def encoded_parameters(self, lines: Sequence[RunLine]) -> list[JsonText]:
        """The parameter sets of these runs as encoded JSON, to send on unread: an inline
        one as the store sent it, one in the blob store as it was written there, one its
        job's specification gives encoded here."""
        specs = self.job_specs([line.job_id for line in lines if line.parameters is None])
        return [_encoded(line.parameters, self.blobs) if line.parameters is not None
                else JsonText(json.dumps(specs[line.job_id].parameters(line.index)))
                for line in lines]

    def run_resources(self, run: Run) -> Resources | None:
        """What a container run may use, as granted when its job was submitted (None for a
        handler's run, and for runs stored before jobs kept their specifications)."""
        if run.parameters is not None:
            return None
        return self.job_spec(run.job_id).resources

    def job_spec(self, job_id: str) -> SweepSpec:
        """A job's sweep specification, read once per process (it never changes)."""
        return self.job_specs([job_id])[job_id]

    def job_specs(self, job_ids: list[str], uow: UnitOfWork | None = None
                  ) -> dict[str, SweepSpec]:
        """These jobs' sweep specifications: those this process read lately from its cache,
        the others in one look-up (and kept for next time), in ``uow`` when given (one
        already open: SQLite's writer cannot wait for itself), else in a unit of its own."""
        specs: dict[str, SweepSpec] = {}
        for job_id in dict.fromkeys(job_ids):
            cached = self.specs.get(job_id)
            if cached is not None:
                specs[job_id] = cached
        missing = [job_id for job_id in dict.fromkeys(job_ids) if job_id not in specs]
        if not missing:
            return specs
        if uow is not None:
            stored = uow.jobs.specs(missing)
        else:
            with self.uow() as own:
                stored = own.jobs.specs(missing)
        for job_id in missing:
            payload = stored.get(job_id)
            if payload is None:
                raise NotFound("job specification", job_id)
            specs[job_id] = SweepSpec.from_record(self.payloads.load(payload))
            self.specs.put(job_id, specs[job_id], payload.size)
        return specs

    def run_result(self, run_id: str, owner_id: str | None) -> Any:
        """The stored (encoded) result of a run; None until it succeeded."""
        run = self.get_run(run_id, owner_id)
        return self.payloads.load(run.result)

    def decoded_result(self, run_id: str, owner_id: str | None) -> Any:
        """The result of a run with numpy arrays restored."""
        return codec.decode(self.run_result(run_id, owner_id))

    def run_logs(self, run_id: str, owner_id: str | None, after_seq: int = 0,
                 limit: int | None = None) -> list[LogLine]:
        """Every log line of a run after ``after_seq`` (at most ``limit``), in order."""
        after_seq = min(max(after_seq, 0), MAX_LOG_SEQ)
        with self.uow() as uow:
            load_run(uow, run_id, owner_id)
            return uow.logs.list(run_id, after_seq, limit)

    def log_page(self, run_id: str, owner_id: str | None, after: int = 0,
                 limit: int = LOG_PAGE_LINES, containing: str | None = None) -> LogPage:
        """The lines of a run's log after line ``after``, at most ``limit`` (1 to
        ``MAX_LOG_PAGE_LINES``); a reader asks again from ``next_after`` until ``complete``.
        With ``containing``, only the lines that hold that text, whatever its case, among
        the next ``LOG_SEARCH_WINDOW`` lines (``next_after`` is where that window ended)."""
        if not 1 <= limit <= MAX_LOG_PAGE_LINES:
            raise ValidationError(f"a page holds 1 to {MAX_LOG_PAGE_LINES} log lines, "
                                  f"not {limit}")
        if containing is not None and not 1 <= len(check_text(containing, "a search")) \
                <= MAX_LOG_SEARCH:
            raise ValidationError(f"a log search is 1 to {MAX_LOG_SEARCH} characters")
        after = min(max(after, 0), MAX_LOG_SEQ)
        # A search reads a window of the log at a time, so that a page of a log of any
        # length costs the same; the next page goes on from where the window ended.
        through = after + LOG_SEARCH_WINDOW if containing is not None else None
        with self.uow() as uow:
            run = load_run(uow, run_id, owner_id)  # read first: a run ended has all its lines
            last = uow.logs.last_seq(run.id)  # then the lines: none before it is missed
            lines = uow.logs.list(run.id, after, limit, containing, through)
        # A page that is not full was read to the log's end (or its window's).
        next_after = lines[-1].seq if len(lines) == limit else max(
            after, min(last, through) if through is not None else last,
            lines[-1].seq if lines else 0)
        return LogPage(run, lines, next_after=next_after,
                       complete=run.terminal and next_after >= last, last=last)

    def log_end(self, run_id: str, owner_id: str | None, count: int = LOG_TAIL_LINES
                ) -> LogPage:
        """The last ``count`` lines of a run's log (what an error is shown with, where a
        reader following the log starts), as a page to read on from."""
        with self.uow() as uow:
            run = load_run(uow, run_id, owner_id)  # first: a run ended has all its lines
            last = uow.logs.last_seq(run.id)
            lines = uow.logs.list(run.id, max(0, last - count))
        next_after = max(last, lines[-1].seq if lines else 0)
        return LogPage(run, lines, next_after=next_after, complete=run.terminal,
                       last=next_after)

    def run_attempts(self, run_id: str, owner_id: str | None) -> list[RunAttempt]:
        """Every attempt at a run, first first: its worker, when, and how it ended."""
        with self.uow() as uow:
            run = load_run(uow, run_id, owner_id)
            return list(uow.runs.attempts(run.id))

    def run_artifacts(self, run_id: str, owner_id: str | None) -> list[Artifact]:
        with self.uow() as uow:
            load_run(uow, run_id, owner_id)
            return uow.artifacts.list(run_id)

    def artifact_content(self, run_id: str, name: str, owner_id: str | None
                         ) -> tuple[Artifact, bytes]:
        with self.uow() as uow:
            load_run(uow, run_id, owner_id)
            artifact = uow.artifacts.get(run_id, name)
        if artifact is None:
            raise NotFound("artifact", f"{run_id}/{name}")
        return artifact, self.blobs.get(artifact.blob_key)

    def statistics(self, owner_id: str | None) -> RunStatistics:
        """Counts by status and mean duration of the runs an owner can see."""
        with self.uow() as uow:
            return uow.runs.statistics(owner_id)


@dataclass(frozen=True)
class JobDetail:
    """A job's view with the outline of its runs, and its run's parameters when it has only
    one: what a job's detail shows, read without reading a sweep's runs whole."""

    view: JobView
    outline: RunOutline
    #: The parameters of its run, when it has only one.
    parameters: dict[str, Any] | None = None


@dataclass(frozen=True)
class LogPage:
    """A page of a run's log: its lines after a position, where the next page starts, and
    whether the log is complete (the run has ended and no line is left to read)."""

    run: Run
    lines: list[LogLine]
    next_after: int
    complete: bool
    #: The number of the log's last line when it was read (how many lines it had).
    last: int = 0


def _encoded(payload: Payload, blobs: BlobStore) -> JsonText:
    if payload.blob_key is not None:
        return JsonText(blobs.get(payload.blob_key).decode())
    if isinstance(payload.inline, JsonText):
        return payload.inline
    return JsonText(json.dumps(payload.inline))
