"""Adaptive replication over HTTP: what a submission's ``replicate`` holds, and a job's
summary (``GET /api/v1/simulations/{id}/summary``): its replication's points, and the
mean of every numeric result at each parameter point."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simdock.domain.bounds import MAX_SWEEP_VARIANTS
from simdock.domain.replication import Replication
from simdock.report_points import Point
from simdock.usecases.replicating import JobReplication, PointView
from simdock_adapters.http.schemas import WHOLE

#: A job's seed: what its replicates' seeds are derived from.
Seed = Annotated[int, Field(ge=0, le=2**63 - 1, description=(
    "The job's seed: replicate r of point p takes numpy's SeedSequence(seed, "
    "spawn_key=(p, r)), its first 53 bits (drawn from the job's id when not given)")), WHOLE]


def _one_target(schema: dict[str, Any]) -> None:
    """The document of :class:`ReplicateIn`: ``half_width`` and ``relative`` are numbers
    (absent rather than null), and a replicate gives exactly one of them."""
    for name in ("half_width", "relative"):
        given = schema["properties"][name]
        number = next(option for option in given.pop("anyOf") if option.get("type") == "number")
        given.update(number)
        given.pop("default", None)
    schema["oneOf"] = [{"required": ["half_width"]}, {"required": ["relative"]}]


class ReplicateIn(BaseModel):
    """Run each parameter point again, with new seeds, until the Student-t interval of the
    mean of ``metric`` is within ``half_width`` (or ``relative`` x |mean|)."""

    # Exactly one of half_width and relative, each a number when given (never null), as
    # the document says it.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_target)
    metric: str = Field(min_length=1, max_length=200, examples=["estimate"],
                        description="A number under this name in each run's result")
    half_width: float | None = Field(None, gt=0, description="The interval's half-width")
    relative: float | None = Field(None, gt=0,
                                   description="The half-width as a share of |mean|")
    confidence: float = Field(0.95, gt=0, lt=1)
    min: Annotated[int, Field(ge=2), WHOLE] = 5
    max: Annotated[int, Field(ge=2, le=MAX_SWEEP_VARIANTS), WHOLE] = 2000
    batch: Annotated[int, Field(ge=1), WHOLE] = 16

    @field_validator("half_width", "relative", mode="before")
    @classmethod
    def _given_as_a_number(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("give a number, or leave it out")
        return value

    def asked(self) -> Replication:
        """The core's replication (which refuses contradictions, naming the field)."""
        return Replication(self.metric, self.half_width, self.relative, self.confidence,
                           self.min, self.max, self.batch)


class PointOut(BaseModel):
    """A parameter point and its replicates so far."""

    point: int
    parameters: dict[str, Any] = Field(description="The point's parameters, without its seed")
    replicates: int = Field(description="How many replicates it was given")
    finished: int
    failed: int
    n: int = Field(description="Replicates whose result holds the metric")
    mean: float | None
    std: float | None
    low: float | None = Field(description="The interval's lower end")
    high: float | None
    half_width: float | None
    met: bool = Field(description="Whether the interval reached the target")
    outcome: str = Field(description="more (under way), met, max reached, metric missing "
                                     "or runs failed")
    reason: str | None = Field(description="Why it stopped without meeting the target")


class FieldOut(BaseModel):
    """A numeric result field over a point's succeeded runs."""

    n: int
    mean: float
    std: float | None
    low: float | None = Field(description="The 95% interval's lower end (n of 2 or more)")
    high: float | None


class ResultPointOut(BaseModel):
    """The runs of a job that differ only by their seed, and what their results say."""

    parameters: dict[str, Any] = Field(description="The point's parameters, without the seed")
    runs: int
    succeeded: int
    fields: dict[str, FieldOut] = Field(description="Each numeric result field, by name "
                                                    "(nested fields joined by dots)")


class SummaryOut(BaseModel):
    """A job's replication and its points (none for a job not replicated), and the mean of
    every numeric result at each parameter point (any job)."""

    simulation_id: str
    replicate: dict[str, Any] | None
    seed: int | None
    seed_parameter: str | None
    points: list[PointOut]
    results: list[ResultPointOut] = Field(description=(
        "Each parameter point: the runs that differ only by their seed (as the handler "
        "reads its seed), with each numeric result field's n, mean, standard deviation and "
        "95% interval"))


def summary_out(found: JobReplication, results: list[Point]) -> SummaryOut:
    grouped = [ResultPointOut(parameters=point.parameters, runs=point.runs,
                              succeeded=point.succeeded,
                              fields={name: FieldOut(**summary.to_record())
                                      for name, summary in point.fields().items()})
               for point in results]
    replication = found.spec.replication if found.spec is not None else None
    if found.spec is None or replication is None:
        return SummaryOut(simulation_id=found.job_id, replicate=None, seed=None,
                          seed_parameter=None, points=[], results=grouped)
    return SummaryOut(simulation_id=found.job_id, replicate=replication.to_record(),
                      seed=found.spec.seed, seed_parameter=found.spec.seed_parameter,
                      points=[_point(view) for view in found.points], results=grouped)


def _point(view: PointView) -> PointOut:
    state, summary = view.state, view.summary
    return PointOut(point=view.point, parameters=view.parameters, replicates=state.planned,
                    finished=state.finished, failed=state.failed, n=summary.n,
                    mean=summary.mean, std=summary.std, low=summary.low, high=summary.high,
                    half_width=summary.half_width, met=summary.met,
                    outcome=summary.outcome.value, reason=summary.reason)
