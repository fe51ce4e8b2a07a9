"""Runs as pages show them, read by the core so that no view reads the store for itself.

Each run comes with its job, its parameters, what it was granted and where it is
placed (:class:`RunView`). A run shown alone has its parameters whole; runs shown
in a list have them within PARAMETERS_SIZE_THRESHOLD, as
:func:`simdock.domain.listing.within` decides with the bound the store keeps
payloads inline by (the rest left out with their size); the parameters' sizes come
from their job's specification (measured once per process) or, for runs that keep
their own parameters, from those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simdock.domain import Job, Machine, Report, Run
from simdock.domain.listing import json_size, within
from simdock.domain.resources import Resources
from simdock.paging import Page
from simdock.platform import Platform
from simdock.selection import RunQuery
from simdock.tallies import RunOutline
from simdock.usecases.queries import (
    JobDetail,
)


def listed_parameters(runs: list[Run], platform: Platform) -> list[dict[str, Any]]:
    """Each run's parameters as a list shows them: a parameter left out is an
    :class:`~simdock.domain.listing.Omitted` with its size."""
    bound = platform.payloads.threshold
    specs = platform.queries.job_specs([r.job_id for r in runs if r.parameters is None])
    listed = []
    for run in runs:
        if run.parameters is not None:  # stored before jobs kept specifications
            parameters = dict(platform.payloads.load(run.parameters))
            sizes = {name: json_size(value) for name, value in parameters.items()}
        else:
            spec = specs[run.job_id]
            parameters = spec.parameters(run.index)
            sizes = spec.parameter_sizes(run.index)
        listed.append(within(parameters, sizes, bound))
    return listed


def listed_report_parameters(reports: list[Report], platform: Platform
                             ) -> list[dict[str, Any]]:
    """Each report's parameters as a list shows them, by the same bound as runs'."""
    return [within(report.parameters, {name: json_size(value)
                                       for name, value in report.parameters.items()},
                   platform.payloads.threshold) for report in reports]


@dataclass(frozen=True)
class RunView:
    """A run with what a page shows beside it."""

    run: Run
    job: Job
    #: Its parameters: whole for a run shown alone; in a list, a parameter left out is an
    #: :class:`~simdock.domain.listing.Omitted` with its size.
    parameters: dict[str, Any]
    #: What a container run may use, as granted when its job was submitted.
    resources: Resources | None
    #: The machine it is placed on, where the view asked for it.
    machine: Machine | None = None


def run_view(run_id: str, owner_id: str | None, platform: Platform,
             with_machine: bool = False) -> RunView:
    """One run (by id or number), its parameters whole."""
    run, job = platform.queries.get_run_and_job(run_id, owner_id)
    machine = platform.machines.machines_of(
        [run]).get(run.machine_id or "") if with_machine else None
    return RunView(run, job, platform.queries.run_parameters(
        run), platform.queries.run_resources(run),
                   machine)


def list_run_views(query: RunQuery, platform: Platform) -> Page[RunView]:
    """A page of runs, their jobs read in one look-up, their parameters as lists show
    them."""
    page = platform.queries.list_runs(query)
    return Page(_listed(page.items, platform.queries.jobs_of(page.items, query.owner_id), platform),
                page.total, page.page, page.page_size, page.next)


def job_run_views(job_id: str | int, owner_id: str | None, platform: Platform
                  ) -> tuple[JobDetail, list[RunView]]:
    """A job's detail and each of its runs with the machine it is placed on, their
    parameters as lists show them."""
    view = platform.queries.get_job(job_id, owner_id)
    runs = platform.queries.job_runs(job_id, owner_id)
    single = runs[0] if view.job.run_count == 1 and runs else None
    detail = JobDetail(view, RunOutline.of(runs),
                       platform.queries.run_parameters(single) if single else None)
    return detail, _listed(runs, {view.job.id: view.job}, platform,
                           platform.machines.machines_of(runs))


def _listed(runs: list[Run], jobs: dict[str, Job], platform: Platform,
            machines: dict[str, Machine] | None = None) -> list[RunView]:
    return [RunView(run, jobs[run.job_id], parameters, platform.queries.run_resources(run),
                    (machines or {}).get(run.machine_id or ""))
            for run, parameters in zip(runs, listed_parameters(runs, platform), strict=True)]
