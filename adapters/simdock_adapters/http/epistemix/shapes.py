"""What the Epistemix API reads and answers, in its own words (camelCase, integer ids).

The request models check what the epx client sends; the functions at the end
turn simdock's jobs and runs into the documents it parses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from simdock.codec import JsonText
from simdock.domain import Job, RunStatus
from simdock.tallies import RunLine
from simdock_adapters.http.epistemix.reading import MAX_IDS, Id
from simdock_adapters.http.json_provider import Embedded

#: simdock's run status in Epistemix's words (a stopped run is an error there).
STATUS: dict[RunStatus, str] = {
    RunStatus.QUEUED: "QUEUED",
    RunStatus.RUNNING: "RUNNING",
    RunStatus.SUCCEEDED: "DONE",
    RunStatus.FAILED: "ERROR",
    RunStatus.CANCELLED: "ERROR",
}
#: ...and the phase of the Kubernetes pod the platform would have run it in.
POD_PHASE: dict[RunStatus, str] = {
    RunStatus.QUEUED: "Pending",
    RunStatus.RUNNING: "Running",
    RunStatus.SUCCEEDED: "Succeeded",
    RunStatus.FAILED: "Failed",
    RunStatus.CANCELLED: "Failed",
}
#: The run metadata key holding the version of the client that sent it.
CLIENT_VERSION = "epx_client_version"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Registration(Strict):
    tags: list[str] = Field(default_factory=list, max_length=32)


class UploadRequest(Strict):
    jobId: Id
    context: Literal["job", "run"]
    type: Literal["input", "config"]
    runId: Id | None = None


class FredArg(Strict):
    flag: str = Field(min_length=1, max_length=64)
    value: str | None = Field(None, max_length=4096)


class Population(Strict):
    version: str = Field(max_length=200)
    locations: list[str] | None = Field(None, max_length=10_000)


class RunRequest(BaseModel):
    """One run request; what it says besides these fields is kept as sent."""

    model_config = ConfigDict(extra="allow", strict=True)

    jobId: Id
    fredArgs: list[FredArg] = Field(min_length=1, max_length=1_000)
    workingDir: str = Field("", max_length=4096)
    size: str = Field("hot", max_length=64)
    fredVersion: str = Field("latest", max_length=64)
    population: Population | None = None
    fredFiles: list[str] = Field(default_factory=list, max_length=1_000)


class RunRequests(Strict):
    runRequests: list[RunRequest] = Field(min_length=1, max_length=MAX_IDS)


class RetryRequest(Strict):
    """The JSON form of a retry (the client itself sends a form)."""

    runRequestIds: list[Id] = Field(min_length=1, max_length=MAX_IDS)


def timestamp(moment: datetime) -> str:
    """``2023-10-01T12:00:00Z``: UTC, whole seconds, as the platform writes them."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"  # not "+00:00"


def job_document(job: Job, user_number: int) -> dict[str, Any]:
    return {"id": job.number, "userId": user_number, "tags": list(job.tags),
            "created": timestamp(job.created_at)}


def run_document(run: RunLine, job: Job, user_number: int, request: JsonText,
                 url: str | None = None) -> dict[str, Any]:
    """A run as ``GET /runs`` lists it, its request embedded as stored; ``url`` is a
    pre-signed link to its results archive, None while it has none."""
    return {"id": run.number, "jobId": job.number, "userId": user_number,
            "createdTs": timestamp(run.created_at), "request": Embedded(request),
            "podPhase": POD_PHASE[run.status], "containerStatus": None,
            "status": STATUS[run.status], "userDeleted": run.status is RunStatus.CANCELLED,
            "epxClientVersion": run.metadata.get(CLIENT_VERSION), "url": url}
