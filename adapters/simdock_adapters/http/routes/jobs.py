"""Seed 001's ``/api/v1/jobs``: each "job" there is one run; a sweep returns many.

Also seed 002's view of runs: filtering and ordering, the detailed view
joined with its machine, and placing a run on a machine.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, Response, send_file
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    WithJsonSchema,
    model_validator,
)
from pydantic.config import JsonDict

from simdock.domain import User
from simdock.domain.images import FLAG_NAME, IMAGE, container_type
from simdock.domain.resources import Resources
from simdock.paging import RUN_ORDER_FIELDS, Ordering
from simdock.selection import RunQuery
from simdock.usecases import queries, submit
from simdock_adapters.http.api import Api, Event, Raw
from simdock_adapters.http.context import context, current_user, platform, shared_platform
from simdock_adapters.http.replication import ReplicateIn, Seed
from simdock_adapters.http.schemas import (
    WHOLE,
    CursorPageQuery,
    Deleted,
    Name,
    PageOf,
    RunOrder,
    StatusFilter,
    Tag,
)
from simdock_adapters.http.streams import hold, log_stream
from simdock_adapters.http.views import (
    RunDetailed,
    RunOut,
    page_json,
    run_detailed,
    run_json,
    run_out,
)

JSON = dict[str, Any]


def _image_reference(value: str) -> str:
    container_type(value)  # refuses what is not an image reference, naming it
    return value


ImageReference = Annotated[str, AfterValidator(_image_reference), WithJsonSchema(
    {"type": "string", "maxLength": 255, "pattern": IMAGE.pattern})]


class ResourcesIn(BaseModel):
    """Resources a container run asks for; each at most the platform's maximum."""

    model_config = ConfigDict(extra="forbid")
    memory_mb: Annotated[int, Field(ge=16), WHOLE] | None = Field(
        None, description="Memory, MiB (no swap)")
    cpus: float | None = Field(None, ge=0.01, description="CPUs")
    pids: Annotated[int, Field(ge=8), WHOLE] | None = Field(
        None, description="Processes and threads")

    def granted(self) -> Resources:
        return Resources(memory_mb=self.memory_mb, cpus=self.cpus, pids=self.pids)


_FLAG_NAMES: JsonDict = {"type": "object", "propertyNames": {"pattern": FLAG_NAME.pattern}}
CONTAINER_PARAMETER_NAMES: JsonDict = {
    "params": {"anyOf": [_FLAG_NAMES, {"type": "null"}]},
    "sweep": {"anyOf": [{"type": "array", "items": _FLAG_NAMES}, {"type": "null"}]},
    "grid": {"anyOf": [_FLAG_NAMES, {"type": "null"}]},
    "zip": {"anyOf": [_FLAG_NAMES, {"type": "null"}]},
}


class JobSubmission(BaseModel):
    """One run (``params``) or a sweep (``sweep``, ``grid`` or ``zip``, over ``params``).

    ``container_image`` runs an image (seed 001); ``simulation_type`` runs a
    registered handler such as ``heat1d``. Without either, the default image.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "not": {"required": ["container_image", "simulation_type"],
                "properties": {"container_image": {"type": "string"},
                               "simulation_type": {"type": "string"}}},
        # A handler's runs take no resources. Without a simulation_type the runs are a
        # container's, given their parameters as command-line flags: names are flag names.
        "if": {"required": ["simulation_type"],
               "properties": {"simulation_type": {"type": "string"}}},
        "then": {"properties": {"resources": {"type": "null"}}},
        "else": {"properties": CONTAINER_PARAMETER_NAMES}})
    container_image: ImageReference | None = Field(None, examples=["sim:local"])
    simulation_type: Name | None = Field(None, examples=["heat1d"])
    params: JSON | None = None
    sweep: list[JSON] | None = None
    grid: dict[str, list[Any]] | None = None
    zip: dict[str, list[Any]] | None = None
    metadata: JSON = Field(default_factory=dict)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    name: str | None = Field(None, max_length=200)
    timeout: float | None = Field(None, gt=0, le=7 * 24 * 3600)
    machine_id: str | None = None
    resources: ResourcesIn | None = Field(
        None, description="What each run of a container_image may use, within the platform's "
                          "maximum (CONTAINER_MAX_*); what is left out is the platform's "
                          "default (CONTAINER_MEMORY_MB, CONTAINER_CPUS, CONTAINER_PIDS)")
    replicate: ReplicateIn | None = Field(
        None, description="Replicate each parameter point with new seeds until the mean of "
                          "a result is precise enough (GET /api/v1/simulations/{id}/summary)")
    seed: Seed | None = None
    reuse: bool = Field(
        True, description="Whether a run may be completed at once with the result of an "
                          "earlier succeeded run of yours that is the same computation (same "
                          "simulation type and version, parameters and seed): it is then "
                          "marked reused_from that run, and nothing executes")

    @model_validator(mode="after")
    def one_kind(self) -> JobSubmission:
        if self.container_image is not None and self.simulation_type is not None:
            raise ValueError("give container_image or simulation_type, not both")
        return self

    @property
    def is_sweep(self) -> bool:
        return any(v is not None for v in (self.sweep, self.grid, self.zip))


class JobsCreated(BaseModel):
    """The ids of the runs created, and for a sweep what each run varies."""

    jobs: list[str]
    sweep_mapping: dict[str, JSON] | None = Field(
        description="For a sweep, run id -> what that run sets over ``params``: its item of "
                    "``sweep`` as given, or its values of the ``grid`` or ``zip`` axes")
    simulation_id: str = Field(description="The submission grouping these runs")


class JobListQuery(CursorPageQuery, StatusFilter):
    simulation_type: str | None = None
    container_image: ImageReference | None = Field(
        None, description="Runs of this image (an image reference such as sim:local)")
    tag: str | None = None
    machine_id: str | None = None
    simulation_id: str | None = None
    order_by: RunOrder | None = Field(None, description="A field, '-field' for descending",
                                      examples=["-created_at"])


class LogLineOut(BaseModel):
    seq: int
    timestamp: str
    stream: str
    message: str


class LogStreamEnd(BaseModel):
    """The last event of a run's log stream: how the run ended."""

    status: Literal["succeeded", "failed", "cancelled"]


class LogsOut(BaseModel):
    """A run's log lines after ``after``, and whether more can come."""

    job_id: str
    lines: list[LogLineOut]
    next_after: int
    complete: bool


class LogQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    after: int = Field(0, ge=0)
    limit: int = Field(queries.LOG_PAGE_LINES, ge=1, le=queries.MAX_LOG_PAGE_LINES)
    contains: str | None = Field(None, min_length=1, max_length=queries.MAX_LOG_SEARCH,
                                 description="Only the lines holding this text, whatever "
                                             "its case")


class StatsOut(BaseModel):
    """Counts of your runs by status and their mean duration."""

    total: int
    counts: dict[str, int]
    mean_duration_seconds: float | None


class RunParameters(RootModel[dict[str, Any]]):
    """A run's whole parameter set, however large."""


class Placement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    machine_id: str | None = Field(description="A machine id, or null to unplace the run")


def run_query(user: User, query: JobListQuery) -> RunQuery:
    simulation_type = query.simulation_type
    if query.container_image is not None:
        simulation_type = container_type(query.container_image)
    return RunQuery(owner_id=user.id, job_id=query.simulation_id,
                    statuses=query.statuses,
                    simulation_type=simulation_type, tag=query.tag, machine_id=query.machine_id,
                    order=Ordering.parse(query.order_by, RUN_ORDER_FIELDS),
                    page=query.page_request())


def register(api: Api) -> Blueprint:
    bp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs")
    tags = ["jobs"]

    @api.operation(bp, "", "POST", tags=tags, authenticate=current_user, body=JobSubmission,
                   responses={201: JobsCreated})
    def submit_jobs(user: User, body: JobSubmission) -> dict[str, Any]:
        """Submit one run or a parameter sweep."""
        submission = platform().submitting.submit(submit.Submit(
            owner_id=user.id, simulation_type=body.simulation_type, image=body.container_image,
            parameters=body.params, variants=body.sweep, grid=body.grid, zipped=body.zip,
            name=body.name, tags=body.tags, metadata=body.metadata, machine_id=body.machine_id,
            timeout_seconds=body.timeout,
            resources=body.resources.granted() if body.resources else None,
            replicate=body.replicate.asked() if body.replicate else None, seed=body.seed,
            reuse=body.reuse))
        mapping = {run_id: submission.varied(index)
                   for index, run_id in enumerate(submission.run_ids)} if body.is_sweep else None
        # JobsCreated documents this answer; a sweep's can hold 100,000 entries, which are
        # made here as they are to be sent rather than validated once more.
        return {"jobs": submission.run_ids, "sweep_mapping": mapping,
                "simulation_id": submission.job.id}

    @api.operation(bp, "", "GET", tags=tags, authenticate=current_user, query=JobListQuery,
                   responses={200: PageOf[RunOut]})
    def list_job_runs(user: User, query: JobListQuery) -> JSON:
        """List your runs, filtered, ordered and paginated.

        A run's parameters are shown whole up to PARAMETERS_SIZE_THRESHOLD bytes of JSON;
        past it the largest are each an OmittedParameter with their size and a link to
        GET /api/v1/jobs/{id}/parameters (named in params_omitted).
        """
        page = platform().listing.list_run_views(run_query(user, query))
        return page_json(page, [run_json(view) for view in page.items])

    @api.operation(bp, "/stats", "GET", tags=tags, authenticate=current_user,
                   responses={200: StatsOut})
    def job_stats(user: User) -> StatsOut:
        """Counts of your runs by status and their mean duration."""
        stats = platform().queries.statistics(user.id)
        return StatsOut(total=stats.total, counts={s.value: n for s, n in stats.counts.items()},
                        mean_duration_seconds=stats.mean_duration_seconds)

    @api.operation(bp, "/<id:job_id>", "GET", tags=tags, authenticate=current_user,
                   responses={200: RunOut})
    def get_job_run(user: User, job_id: str) -> JSON:
        """One run's status, parameters and timings."""
        return run_json(platform().listing.run_view(job_id, user.id))

    @api.operation(bp, "/<id:job_id>/parameters", "GET", tags=tags,
                   authenticate=current_user, responses={200: RunParameters})
    def get_job_run_parameters(user: User, job_id: str) -> JSON:
        """One run's whole parameters (where a list left some out for their size)."""
        return platform().queries.run_parameters(platform().queries.get_run(job_id, user.id))

    @api.operation(bp, "/<id:job_id>/detailed", "GET", tags=tags, authenticate=current_user,
                   responses={200: RunDetailed})
    def get_job_run_detailed(user: User, job_id: str) -> RunDetailed:
        """One run joined with the machine it is placed on."""
        return run_detailed(platform().listing.run_view(job_id, user.id, with_machine=True))

    @api.operation(bp, "/<id:job_id>", "PATCH", tags=tags, authenticate=current_user,
                   body=Placement, responses={200: RunOut})
    def place_job_run(user: User, job_id: str, body: Placement) -> RunOut:
        """Place an unfinished run on a machine (seed 002's update)."""
        run = platform().machines.place_run(job_id, body.machine_id, user.id)
        return run_out(platform().listing.run_view(run.id, user.id))

    @api.operation(bp, "/<id:job_id>", "DELETE", tags=tags, authenticate=current_user,
                   responses={200: Deleted})
    def cancel_job_run(user: User, job_id: str) -> Deleted:
        """Cancel a run that has not finished (a finished run keeps its outcome)."""
        platform().cancelling.cancel_run(job_id, user.id)
        return Deleted(id=job_id, status=platform().queries.get_run(job_id, user.id).status)

    @api.operation(bp, "/<id:job_id>/logs", "GET", tags=tags, authenticate=current_user,
                   query=LogQuery, responses={200: LogsOut})
    def job_logs(user: User, job_id: str, query: LogQuery) -> LogsOut:
        """A run's log lines (after ``after``, at most ``limit``)."""
        page = platform().queries.log_page(job_id, user.id, query.after, query.limit,
                                           query.contains)
        return LogsOut(job_id=job_id, lines=[
            LogLineOut(seq=line.seq, timestamp=line.at.isoformat(), stream=line.stream,
                       message=line.message) for line in page.lines],
            next_after=page.next_after, complete=page.complete)

    @api.operation(bp, "/<id:job_id>/logs/stream", "GET", tags=tags, authenticate=current_user,
                   errors=frozenset({429}),
                   responses={200: Raw(
                       "text/event-stream", "Log lines as server-sent events, then an end event",
                       events={"log": Event("a line (its seq is the event's id)", LogLineOut),
                               "end": Event("the run finished and every line was sent",
                                            LogStreamEnd)})})
    def job_log_stream(user: User, job_id: str) -> Response:
        """Stream a run's log lines as server-sent events until it finishes."""
        platform().queries.get_run(job_id, user.id)
        return log_stream(job_id, user.id, shared_platform(), hold(context().streams, user.id))

    @api.operation(bp, "/<id:job_id>/result", "GET", tags=tags, authenticate=current_user,
                   errors=frozenset({409}),
                   responses={200: Raw("application/zip", "The run's files, result, "
                                                          "parameters and log, zipped")})
    def job_result(user: User, job_id: str) -> Response:
        """Download a finished run's outputs as a zip archive."""
        return send_file(platform().archives.download(job_id, user.id),
                         mimetype="application/zip", as_attachment=True,
                         download_name=f"{job_id}.zip")

    return bp
