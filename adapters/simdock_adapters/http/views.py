"""Response models and how domain objects become them, shared by the dialects' routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from simdock.domain import Machine, MetricPoint, Report
from simdock.domain.images import image_of
from simdock.domain.listing import Omitted
from simdock.domain.resources import Resources
from simdock.paging import Page
from simdock.usecases.listing import RunView
from simdock.usecases.queries import JobDetail, JobView
from simdock_adapters.http import cursors
from simdock_adapters.http.context import link_base

#: What a list shows for a parameter it leaves out (the document's schema of it).
OMITTED_PARAMETER: dict[str, Any] = {
    "title": "OmittedParameter",
    "description": "A parameter a list leaves out for its size: GET url for the whole "
                   "parameters",
    "type": "object",
    "properties": {"omitted": {"const": True},
                   "size": {"type": "integer", "minimum": 0,
                            "description": "Bytes of the parameter's JSON"},
                   "url": {"type": "string",
                           "description": "Where the whole parameters are: a run's GET "
                                          "/api/v1/jobs/{id}/parameters, a report's GET "
                                          "/api/v1/reports/{id}"}},
    "required": ["omitted", "size", "url"],
}
PARAMS_DESCRIPTION = (
    "The run's parameters. In a list (GET /jobs, a simulation's runs and results), once "
    "they are more than PARAMETERS_SIZE_THRESHOLD bytes of JSON the largest are each "
    "replaced by an OmittedParameter (named in params_omitted); a single run shows them "
    "whole")


class ResourcesOut(BaseModel):
    """Memory (MiB, no swap), CPUs and processes one container run may use."""

    memory_mb: int
    cpus: float
    pids: int


class RunOut(BaseModel):
    """A run: one execution with one parameter set (a "job" in seed 001's words)."""

    id: str
    simulation_id: str = Field(description="The submission (job) this run belongs to")
    index: int = Field(description="Position of this run's variant in its sweep")
    status: str
    progress: float
    simulation_type: str
    container_image: str | None
    resources: ResourcesOut | None = Field(
        description="What a container run may use (as granted at submission); null for a "
                    "handler's run")
    params: dict[str, Any] = Field(description=PARAMS_DESCRIPTION, json_schema_extra={
        "additionalProperties": {"anyOf": [OMITTED_PARAMETER, {}]}})
    params_omitted: list[str] = Field(
        description="The parameters a list left out of params (each an OmittedParameter "
                    "there); empty when params are whole")
    metadata: dict[str, Any]
    tags: list[str]
    attempts: int
    reused_from: str | None = Field(
        description="The run whose result this run reuses (the same computation, run "
                    "earlier): this one executed nothing (attempts 0); null for a run that "
                    "executed")
    machine_id: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime | None
    duration_seconds: float | None


class MachineOut(BaseModel):
    """A compute resource runs can be placed on."""

    id: str
    name: str
    cpu: str
    gpu: str | None
    memory: float = Field(description="Memory in GB")
    status: str
    created_at: datetime
    updated_at: datetime | None
    created_by: str | None = Field(description="The user who registered it (who may change "
                                               "it, with administrators)")


class RunDetailed(RunOut):
    """A run together with the machine it is placed on."""

    machine: MachineOut | None


class SimulationOut(BaseModel):
    """A submission (a "simulation job" in seed 000's words): one run or a sweep."""

    id: str
    name: str | None
    simulation_type: str
    kind: str
    status: str
    progress: float = Field(description="How far its work got, 0 to 1: the mean progress of "
                                        "its runs (a succeeded run counts 1; a failed or "
                                        "cancelled one what it had reached)")
    run_count: int
    run_counts: dict[str, int]
    job_metadata: dict[str, Any]
    tags: list[str]
    created_at: datetime


class SimulationDetail(SimulationOut):
    """A submission with its parameters (one run) and the times and errors of its runs."""

    parameters: dict[str, Any] | None
    run_ids: list[str]
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None


class ReportOut(BaseModel):
    """A report and, once generated, a time-limited link to download it."""

    id: str
    report_type: str
    output_format: str
    status: str
    simulation_job_ids: list[str]
    parameters: dict[str, Any] = Field(
        description="The report's parameters. In a list (GET /reports), once they are more "
                    "than PARAMETERS_SIZE_THRESHOLD bytes of JSON the largest are each "
                    "replaced by an OmittedParameter (named in parameters_omitted) linking "
                    "to the report", json_schema_extra={
                        "additionalProperties": {"anyOf": [OMITTED_PARAMETER, {}]}})
    parameters_omitted: list[str] = Field(
        description="The parameters a list left out of parameters; empty when whole")
    created_at: datetime
    completed_at: datetime | None
    error_message: str | None
    filename: str | None
    content_type: str | None
    size: int
    download_url: str | None
    download_url_expires_at: datetime | None


class MetricPointOut(BaseModel):
    """One point of a run's metric series (also in seed 002's words: ``simulation_id``,
    ``loss_value``)."""

    run_id: str
    name: str
    step: int
    value: float
    timestamp: datetime
    simulation_id: str = Field(description="The run, as seed 002's convergence data names it "
                                           "(the same as run_id)")
    loss_value: float = Field(description="The value, as seed 002 names it (the same as value)")


def run_out(view: RunView) -> RunOut:
    """A run as the API shows it, its parameters as ``view`` has them (a parameter a list
    left out is an OmittedParameter linking to the whole parameters): :func:`run_json`'s
    document, validated against the model that documents it."""
    return RunOut.model_validate(run_json(view))


def run_json(view: RunView) -> dict[str, Any]:
    """A run as the API shows it (:class:`RunOut`), as JSON written directly: a page of
    fifty runs is answered without fifty models validated and dumped."""
    run, job = view.run, view.job
    shown, omitted = shown_parameters(f"/api/v1/jobs/{run.id}/parameters", view.parameters)
    granted = _resources(view.resources)
    return {
        "id": run.id, "simulation_id": run.job_id, "index": run.index,
        "status": run.status.value, "progress": float(run.progress),
        "simulation_type": run.simulation_type,
        "container_image": image_of(run.simulation_type),
        "resources": granted.model_dump(mode="json") if granted is not None else None,
        "params": shown, "params_omitted": omitted, "metadata": dict(job.metadata),
        "tags": list(job.tags), "attempts": run.attempts, "reused_from": run.reused_from,
        "machine_id": run.machine_id,
        "error": run.error, "created_at": _utc(run.created_at),
        "started_at": _utc(run.started_at), "finished_at": _utc(run.finished_at),
        "updated_at": _utc(run.updated_at),
        "duration_seconds": (float(run.duration_seconds)
                             if run.duration_seconds is not None else None)}


def _utc(moment: datetime | None) -> str | None:
    """A UTC time as pydantic writes it (``...Z``)."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z"


def _resources(granted: Resources | None) -> ResourcesOut | None:
    if granted is None or granted.memory_mb is None or granted.cpus is None \
            or granted.pids is None:
        return None
    return ResourcesOut(memory_mb=granted.memory_mb, cpus=granted.cpus, pids=granted.pids)


def shown_parameters(path: str, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``params`` with each parameter a list left out as an OmittedParameter linking to
    ``path`` (where the whole parameters are), and the names of those left out."""
    omitted = [name for name, value in params.items() if isinstance(value, Omitted)]
    if not omitted:
        return params, []
    url = f"{link_base()}{path}"
    return {name: {"omitted": True, "size": value.size, "url": url}
            if isinstance(value, Omitted) else value
            for name, value in params.items()}, omitted


def run_detailed(view: RunView) -> RunDetailed:
    """A run joined with the machine it is placed on."""
    return RunDetailed(**run_out(view).model_dump(),
                       machine=machine_out(view.machine) if view.machine else None)


def machine_out(machine: Machine) -> MachineOut:
    return MachineOut(id=machine.id, name=machine.name, cpu=machine.cpu, gpu=machine.gpu,
                      memory=machine.memory_gb, status=machine.status.value,
                      created_at=machine.created_at, updated_at=machine.updated_at,
                      created_by=machine.created_by)


def simulation_out(view: JobView) -> SimulationOut:
    job = view.job
    return SimulationOut(
        id=job.id, name=job.name, simulation_type=job.simulation_type, kind=job.kind.value,
        status=view.status.value, progress=view.progress,
        run_count=job.run_count, run_counts={s.value: n for s, n in view.counts.items()},
        job_metadata=dict(job.metadata), tags=list(job.tags), created_at=job.created_at)


def simulation_detail(detail: JobDetail) -> SimulationDetail:
    view, outline = detail.view, detail.outline
    return SimulationDetail(
        **simulation_out(view).model_dump(),
        parameters=detail.parameters,
        run_ids=list(outline.ids), started_at=outline.first_started_at,
        completed_at=outline.last_finished_at if view.done else None,
        error_message=outline.first_error)


def metric_out(point: MetricPoint) -> MetricPointOut:
    return MetricPointOut(run_id=point.run_id, name=point.name, step=point.step,
                          value=point.value, timestamp=point.at, simulation_id=point.run_id,
                          loss_value=point.value)


def metric_message(point: MetricPoint) -> dict[str, Any]:
    """A point as the live streams (server-sent events, WebSocket) send it: as JSON answers
    show it."""
    return metric_out(point).model_dump(mode="json")


def report_out(report: Report, download_url: str | None, expires_at: datetime | None,
               parameters: dict[str, Any] | None = None) -> ReportOut:
    """A report as the API shows it (``parameters``: as a list shows them, in a list)."""
    shown, omitted = shown_parameters(
        f"/api/v1/reports/{report.id}",
        dict(report.parameters) if parameters is None else parameters)
    return ReportOut(
        id=report.id, report_type=report.report_type, output_format=report.output_format,
        status=report.status.value, simulation_job_ids=list(report.job_ids),
        parameters=shown, parameters_omitted=omitted, created_at=report.created_at,
        completed_at=report.finished_at, error_message=report.error, filename=report.filename,
        content_type=report.content_type, size=report.size, download_url=download_url,
        download_url_expires_at=expires_at)


def page_of(page: Page[Any], items: list[BaseModel]) -> dict[str, Any]:
    """The pagination envelope (:class:`PageOf`) of a core page with its items converted,
    as JSON (built directly: the items are already validated models)."""
    return page_json(page, [item.model_dump(mode="json") for item in items])


def page_json(page: Page[Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The pagination envelope (:class:`PageOf`) of a core page around its items' JSON."""
    return {"items": items, "total": page.total, "page": page.page,
            "page_size": page.page_size, "total_pages": page.total_pages,
            "next_cursor": cursors.encode(page.next) if page.next else None}
