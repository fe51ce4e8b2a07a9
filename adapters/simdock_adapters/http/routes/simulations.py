"""Seed 000's ``/api/v1/simulations``: each simulation job is one submission (job)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from simdock import codec
from simdock.domain import User
from simdock.ports import JOB_ORDER_FIELDS, JobQuery, Ordering, PageRequest
from simdock.usecases import cancel, machines, queries
from simdock.usecases.submit import SubmissionOptions
from simdock_adapters.http.api import Api
from simdock_adapters.http.context import current_user, platform
from simdock_adapters.http.schemas import PageOf, PageQuery, StatusFilter
from simdock_adapters.http.submissions import submit
from simdock_adapters.http.views import (
    RunDetailed,
    SimulationDetail,
    SimulationOut,
    page_of,
    run_detailed,
    simulation_detail,
    simulation_out,
)

JSON = dict[str, Any]


class SimulationSubmission(BaseModel):
    """A simulation job: a type, its parameters, and metadata of your own.

    ``sweep``, ``grid`` or ``zip`` make it a sweep over ``parameters``.
    """

    model_config = ConfigDict(extra="forbid")
    simulation_type: str = Field(min_length=1, max_length=200, examples=["monte_carlo"])
    parameters: JSON = Field(default_factory=dict)
    job_metadata: JSON = Field(default_factory=dict)
    name: str | None = Field(None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=32)
    timeout: float | None = Field(None, gt=0, le=7 * 24 * 3600)
    machine_id: str | None = None
    sweep: list[JSON] | None = None
    grid: dict[str, list[Any]] | None = None
    zip: dict[str, list[Any]] | None = None


class SimulationListQuery(PageQuery, StatusFilter):
    simulation_type: str | None = None
    tag: str | None = None
    machine_id: str | None = None
    order_by: str | None = Field(None, examples=["-created_at"])


class RunResult(BaseModel):
    run_id: str
    index: int
    status: str
    parameters: JSON
    result: Any = None
    error: str | None


class SimulationResult(BaseModel):
    """The results of a finished simulation job: ``result`` for one run, ``runs`` for all."""

    simulation_id: str
    status: str
    result: Any = None
    runs: list[RunResult]


class SimulationDetailed(BaseModel):
    """A simulation job with each run joined with its machine."""

    simulation: SimulationDetail
    runs: list[RunDetailed]


def register(api: Api) -> Blueprint:
    bp = Blueprint("simulations", __name__, url_prefix="/api/v1/simulations")
    tags = ["simulations"]

    @api.operation(bp, "", "POST", tags=tags, authenticate=current_user,
                   body=SimulationSubmission, responses={201: SimulationDetail})
    def submit_simulation(user: User, body: SimulationSubmission) -> SimulationDetail:
        """Submit a simulation job (one run, or a sweep)."""
        submission = submit(user.id, body.simulation_type, body.parameters, body.sweep,
                            body.grid, body.zip, SubmissionOptions(
                                name=body.name, tags=body.tags, metadata=body.job_metadata,
                                machine_id=body.machine_id, timeout_seconds=body.timeout),
                            platform())
        return _detail(submission.job.id, user)

    @api.operation(bp, "", "GET", tags=tags, authenticate=current_user,
                   query=SimulationListQuery, responses={200: PageOf[SimulationOut]})
    def list_simulations(user: User, query: SimulationListQuery) -> JSON:
        """List your simulation jobs, filtered, ordered and paginated."""
        page = queries.list_jobs(JobQuery(
            owner_id=user.id, statuses=query.statuses,
            simulation_type=query.simulation_type, tag=query.tag, machine_id=query.machine_id,
            order=Ordering.parse(query.order_by, JOB_ORDER_FIELDS),
            page=PageRequest(query.page, query.effective_size)), platform())
        return page_of(page, [simulation_out(view) for view in page.items])

    @api.operation(bp, "/<simulation_id>", "GET", tags=tags, authenticate=current_user,
                   responses={200: SimulationDetail})
    def get_simulation(user: User, simulation_id: str) -> SimulationDetail:
        """A simulation job's status and metadata."""
        return _detail(simulation_id, user)

    @api.operation(bp, "/<simulation_id>/detailed", "GET", tags=tags,
                   authenticate=current_user, responses={200: SimulationDetailed})
    def get_simulation_detailed(user: User, simulation_id: str) -> SimulationDetailed:
        """A simulation job with each of its runs joined with its machine."""
        view = queries.get_job(simulation_id, user.id, platform())
        runs = queries.job_runs(simulation_id, user.id, platform())
        placed = machines.machines_of(runs, platform())
        detailed = [run_detailed(r, view.job, placed, platform()) for r in runs]
        return SimulationDetailed(simulation=simulation_detail(view, runs, platform()),
                                  runs=detailed)

    @api.operation(bp, "/<simulation_id>/result", "GET", tags=tags, authenticate=current_user,
                   responses={200: SimulationResult})
    def get_simulation_result(user: User, simulation_id: str) -> SimulationResult:
        """The results of a finished simulation job (409 while it runs)."""
        view, finished = queries.finished_job(simulation_id, user.id, platform())
        runs = []
        for run in finished:
            runs.append(RunResult(
                run_id=run.id, index=run.index, status=run.status.value,
                parameters=queries.run_parameters(run, platform()),
                result=codec.plain(platform().payloads.load(run.result)), error=run.error))
        single = runs[0].result if view.job.run_count == 1 else None
        return SimulationResult(simulation_id=simulation_id, status=view.status.value,
                                result=single, runs=runs)

    @api.operation(bp, "/<simulation_id>/cancel", "POST", tags=tags, authenticate=current_user,
                   responses={200: SimulationDetail})
    def cancel_simulation(user: User, simulation_id: str) -> SimulationDetail:
        """Cancel every run of a simulation job that has not finished."""
        cancel.cancel_job(simulation_id, user.id, platform())
        return _detail(simulation_id, user)

    return bp


def _detail(simulation_id: str, user: User) -> SimulationDetail:
    view = queries.get_job(simulation_id, user.id, platform())
    runs = queries.job_runs(simulation_id, user.id, platform())
    return simulation_detail(view, runs, platform())
