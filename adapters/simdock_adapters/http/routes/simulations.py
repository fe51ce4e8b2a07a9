"""Seed 000's ``/api/v1/simulations``: each simulation job is one submission (job).

Also seed 002's way with simulations: update (PUT), delete, and create-bare-sql.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simdock import codec
from simdock.domain import User
from simdock.paging import JOB_ORDER_FIELDS, Ordering
from simdock.selection import JobQuery
from simdock.usecases import jobs, submit
from simdock_adapters.http.api import Api
from simdock_adapters.http.context import current_user, platform
from simdock_adapters.http.replication import ReplicateIn, Seed, SummaryOut, summary_out
from simdock_adapters.http.schemas import (
    CursorPageQuery,
    JobOrder,
    Name,
    PageOf,
    StatusFilter,
    Tag,
)
from simdock_adapters.http.views import (
    OMITTED_PARAMETER,
    PARAMS_DESCRIPTION,
    RunDetailed,
    SimulationDetail,
    SimulationOut,
    page_of,
    run_detailed,
    shown_parameters,
    simulation_detail,
    simulation_out,
)

JSON = dict[str, Any]
T = TypeVar("T")


class SimulationSubmission(BaseModel):
    """A simulation job: a type, its parameters, and metadata of your own.

    ``sweep``, ``grid`` or ``zip`` make it a sweep over ``parameters``.
    """

    model_config = ConfigDict(extra="forbid")
    simulation_type: Name = Field(examples=["monte_carlo"])
    parameters: JSON = Field(default_factory=dict)
    job_metadata: JSON = Field(default_factory=dict)
    name: str | None = Field(None, max_length=200)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    timeout: float | None = Field(None, gt=0, le=7 * 24 * 3600)
    machine_id: str | None = None
    sweep: list[JSON] | None = None
    grid: dict[str, list[Any]] | None = None
    zip: dict[str, list[Any]] | None = None
    replicate: ReplicateIn | None = Field(
        None, description="Replicate each parameter point with new seeds until the mean of "
                          "a result is precise enough (GET /api/v1/simulations/{id}/summary)")
    seed: Seed | None = None
    reuse: bool = Field(
        True, description="Whether a run may be completed at once with the result of an "
                          "earlier succeeded run of yours that is the same computation (same "
                          "simulation type and version, parameters and seed): it is then "
                          "marked reused_from that run, and nothing executes")


class SimulationUpdate(BaseModel):
    """What an update may change; a field left out is kept.

    ``machine_id`` places the unfinished runs (null unplaces them). A status is
    not set by an update: it follows the runs (cancel has its own route).
    """

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=200)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    job_metadata: JSON = Field(default_factory=dict)
    machine_id: str | None = Field(None, description="A machine for the runs that have not "
                                                     "finished, or null to unplace them")

    @model_validator(mode="before")
    @classmethod
    def no_status(cls, data: Any) -> Any:
        if isinstance(data, dict) and "status" in data:
            raise ValueError("a simulation's status follows its runs and is not updated: "
                             "cancel it with POST /api/v1/simulations/{id}/cancel")
        return data


class SimulationDeleted(BaseModel):
    """A simulation job that was deleted, with its runs and what they produced."""

    id: str
    message: str
    run_count: int


class SimulationListQuery(CursorPageQuery, StatusFilter):
    simulation_type: str | None = None
    tag: str | None = None
    machine_id: str | None = None
    order_by: JobOrder | None = Field(None, description="A field, '-field' for descending",
                                      examples=["-created_at"])


class RunResult(BaseModel):
    run_id: str
    index: int
    status: str
    parameters: JSON = Field(description=PARAMS_DESCRIPTION, json_schema_extra={
        "additionalProperties": {"anyOf": [OMITTED_PARAMETER, {}]}})
    parameters_omitted: list[str] = Field(
        description="The parameters left out of parameters for their size (each an "
                    "OmittedParameter there)")
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
        return _submit(user, body)

    @api.operation(bp, "/<unused_id>/create-bare-sql", "POST", tags=tags,
                   authenticate=current_user, body=SimulationSubmission,
                   responses={201: SimulationDetail})
    def submit_simulation_bare_sql(user: User, unused_id: str, body: SimulationSubmission
                                   ) -> SimulationDetail:
        """Submit a simulation job (seed 002's create-bare-sql).

        The same as POST /simulations. The id in the path names nothing and may
        be anything: seed 002 does not use it either (its own example passes 999).
        """
        return _submit(user, body)

    @api.operation(bp, "", "GET", tags=tags, authenticate=current_user,
                   query=SimulationListQuery, responses={200: PageOf[SimulationOut]})
    def list_simulations(user: User, query: SimulationListQuery) -> JSON:
        """List your simulation jobs, filtered, ordered and paginated."""
        page = platform().queries.list_jobs(JobQuery(
            owner_id=user.id, statuses=query.statuses,
            simulation_type=query.simulation_type, tag=query.tag, machine_id=query.machine_id,
            order=Ordering.parse(query.order_by, JOB_ORDER_FIELDS),
            page=query.page_request()))
        return page_of(page, [simulation_out(view) for view in page.items])

    @api.operation(bp, "/<simulation_id>", "GET", tags=tags, authenticate=current_user,
                   responses={200: SimulationDetail})
    def get_simulation(user: User, simulation_id: str) -> SimulationDetail:
        """A simulation job's status and metadata."""
        return _detail(simulation_id, user)

    @api.operation(bp, "/<simulation_id>", "PUT", tags=tags, authenticate=current_user,
                   body=SimulationUpdate, responses={200: SimulationDetail})
    def update_simulation(user: User, simulation_id: str, body: SimulationUpdate
                          ) -> SimulationDetail:
        """Change a simulation job's name, tags, metadata or machine.

        Fields left out are kept; unknown fields and ``status`` are refused (422).
        ``machine_id`` moves the runs that have not finished (409 when none is left).
        """
        given = body.model_fields_set

        def chosen(name: str, value: T) -> T | jobs.Keep:
            return value if name in given else jobs.KEEP

        platform().jobs.update_job(jobs.UpdateJob(
            job_id=simulation_id, owner_id=user.id, name=chosen("name", body.name),
            tags=chosen("tags", body.tags), metadata=chosen("job_metadata", body.job_metadata),
            machine_id=chosen("machine_id", body.machine_id)))
        return _detail(simulation_id, user)

    @api.operation(bp, "/<simulation_id>", "DELETE", tags=tags, authenticate=current_user,
                   responses={200: SimulationDeleted})
    def delete_simulation(user: User, simulation_id: str) -> SimulationDeleted:
        """Delete a finished simulation job with its runs, logs, metrics, results and files.

        A job with runs still queued or running is refused (409): cancel it first.
        """
        job = platform().jobs.delete_job(simulation_id, user.id)
        return SimulationDeleted(id=job.id, message="Simulation deleted successfully",
                                 run_count=job.run_count)

    @api.operation(bp, "/<simulation_id>/detailed", "GET", tags=tags,
                   authenticate=current_user, responses={200: SimulationDetailed})
    def get_simulation_detailed(user: User, simulation_id: str) -> SimulationDetailed:
        """A simulation job with each of its runs joined with its machine.

        Each run's parameters are shown as GET /api/v1/jobs lists them.
        """
        detail, views = platform().listing.job_run_views(simulation_id, user.id)
        return SimulationDetailed(simulation=simulation_detail(detail),
                                  runs=[run_detailed(view) for view in views])

    @api.operation(bp, "/<simulation_id>/result", "GET", tags=tags, authenticate=current_user,
                   errors=frozenset({409}), responses={200: SimulationResult})
    def get_simulation_result(user: User, simulation_id: str) -> SimulationResult:
        """The results of a finished simulation job (409 while it runs)."""
        view, finished = platform().queries.finished_job(simulation_id, user.id)
        runs = []
        shown = platform().listing.listed_parameters(finished)
        for run, listed in zip(finished, shown, strict=True):
            parameters, omitted = shown_parameters(f"/api/v1/jobs/{run.id}/parameters",
                                                   listed)
            runs.append(RunResult(
                run_id=run.id, index=run.index, status=run.status.value,
                parameters=parameters, parameters_omitted=omitted,
                result=codec.plain(platform().payloads.load(run.result)), error=run.error))
        single = runs[0].result if view.job.run_count == 1 else None
        return SimulationResult(simulation_id=simulation_id, status=view.status.value,
                                result=single, runs=runs)

    @api.operation(bp, "/<simulation_id>/summary", "GET", tags=tags, authenticate=current_user,
                   responses={200: SummaryOut})
    def get_simulation_summary(user: User, simulation_id: str) -> SummaryOut:
        """A replicated job's points: each one's parameters, its replicates so far, the mean
        of its metric with the interval, and whether it met the target (or why not); a job
        not replicated has none. For any job, ``results``: each parameter point (the runs
        that differ only by their seed) with the mean and interval of each numeric result."""
        return summary_out(platform().replicating.summary(simulation_id, user.id),
                           platform().results.points(simulation_id, user.id))

    @api.operation(bp, "/<simulation_id>/cancel", "POST", tags=tags, authenticate=current_user,
                   responses={200: SimulationDetail})
    def cancel_simulation(user: User, simulation_id: str) -> SimulationDetail:
        """Cancel every run of a simulation job that has not finished."""
        platform().cancelling.cancel_job(simulation_id, user.id)
        return _detail(simulation_id, user)

    @api.operation(bp, "/<simulation_id>/retry", "POST", tags=tags, authenticate=current_user,
                   responses={200: SimulationDetail})
    def retry_simulation(user: User, simulation_id: str) -> SimulationDetail:
        """Queue every failed or cancelled run of a simulation job again: new attempts of
        the same runs, which keep their ids (nothing to retry is not an error)."""
        platform().retrying.retry_job(simulation_id, user.id)
        return _detail(simulation_id, user)

    return bp


def _submit(user: User, body: SimulationSubmission) -> SimulationDetail:
    submission = platform().submitting.submit(submit.Submit(
        owner_id=user.id, simulation_type=body.simulation_type, parameters=body.parameters,
        variants=body.sweep, grid=body.grid, zipped=body.zip, name=body.name, tags=body.tags,
        metadata=body.job_metadata, machine_id=body.machine_id, timeout_seconds=body.timeout,
        replicate=body.replicate.asked() if body.replicate else None, seed=body.seed,
        reuse=body.reuse))
    return _detail(submission.job.id, user)


def _detail(simulation_id: str, user: User) -> SimulationDetail:
    return simulation_detail(platform().queries.get_job_detail(simulation_id, user.id))
