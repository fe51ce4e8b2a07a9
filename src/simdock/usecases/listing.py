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
from simdock.payloads import PayloadStore
from simdock.selection import RunQuery
from simdock.tallies import RunOutline
from simdock.usecases.machines import Machines
from simdock.usecases.queries import (
    JobDetail,
    Queries,
)


@dataclass(frozen=True)
class Listing:
    """Runs as views show them: each with its job, parameters, resources and machine."""

    machines: Machines
    payloads: PayloadStore
    queries: Queries

    def listed_parameters(self, runs: list[Run]) -> list[dict[str, Any]]:
        """Each run's parameters as a list shows them: a parameter left out is an
        :class:`~simdock.domain.listing.Omitted` with its size."""
        bound = self.payloads.threshold
        specs = self.queries.job_specs([r.job_id for r in runs if r.parameters is None])
        listed = []
        for run in runs:
            if run.parameters is not None:  # stored before jobs kept specifications
                parameters = dict(self.payloads.load(run.parameters))
                sizes = {name: json_size(value) for name, value in parameters.items()}
            else:
                spec = specs[run.job_id]
                parameters = spec.parameters(run.index)
                sizes = spec.parameter_sizes(run.index)
            listed.append(within(parameters, sizes, bound))
        return listed

    def listed_report_parameters(self, reports: list[Report]
                                 ) -> list[dict[str, Any]]:
        """Each report's parameters as a list shows them, by the same bound as runs'."""
        return [within(report.parameters, {name: json_size(value)
                                           for name, value in report.parameters.items()},
                       self.payloads.threshold) for report in reports]

    def run_view(self, run_id: str, owner_id: str | None,
                 with_machine: bool = False) -> RunView:
        """One run (by id or number), its parameters whole."""
        run, job = self.queries.get_run_and_job(run_id, owner_id)
        machine = self.machines.machines_of([run]).get(run.machine_id or "") \
            if with_machine else None
        return RunView(run, job, self.queries.run_parameters(run),
                       self.queries.run_resources(run), machine)

    def list_run_views(self, query: RunQuery) -> Page[RunView]:
        """A page of runs, their jobs read with them, their parameters as lists show
        them."""
        page, jobs = self.queries.list_runs_with_jobs(query)
        return Page(self._listed(page.items, jobs), page.total, page.page, page.page_size,
                    page.next)

    def job_run_views(self, job_id: str | int, owner_id: str | None
                      ) -> tuple[JobDetail, list[RunView]]:
        """A job's detail and each of its runs with the machine it is placed on, their
        parameters as lists show them."""
        view = self.queries.get_job(job_id, owner_id)
        runs = self.queries.job_runs(job_id, owner_id)
        single = runs[0] if view.job.run_count == 1 and runs else None
        detail = JobDetail(view, RunOutline.of(runs),
                           self.queries.run_parameters(single) if single else None)
        return detail, self._listed(runs, {view.job.id: view.job}, self.machines.machines_of(runs))

    def _listed(self, runs: list[Run], jobs: dict[str, Job],
                machines: dict[str, Machine] | None = None) -> list[RunView]:
        return [RunView(run, jobs[run.job_id], parameters, self.queries.run_resources(run),
                        (machines or {}).get(run.machine_id or ""))
                for run, parameters in zip(runs, self.listed_parameters(runs), strict=True)]


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
