"""Seed 002's convergence data: points of a run's metric series, graphs and live streams.

A run's series are its metric points (``loss`` unless a name is given);
handlers emit them while running, and clients can add points here until the
run finishes. Seed 002's "simulation" in these routes is a run: answers name
it both ``run_id`` and ``simulation_id``, and each value both ``value`` and
``loss_value``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint, Response
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from simdock.domain import User
from simdock.domain.records import MAX_STEP
from simdock.errors import ValidationError
from simdock.usecases import metrics
from simdock_adapters.http.api import Api, Event, Raw
from simdock_adapters.http.context import context, current_user, platform, shared_platform
from simdock_adapters.http.schemas import WHOLE, Name, QueryTime
from simdock_adapters.http.streams import hold, metric_stream
from simdock_adapters.http.views import MetricPointOut, metric_out


class PointValue(BaseModel):
    """What a point holds besides its run: its value (``value`` or seed 002's
    ``loss_value``), series, step and time."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    value: float = Field(validation_alias=AliasChoices("value", "loss_value"),
                         allow_inf_nan=False)
    name: Name = "loss"
    step: Annotated[int, Field(ge=0, le=MAX_STEP), WHOLE] | None = None
    timestamp: datetime | None = None


class PointIn(PointValue):
    """A point: the run (``run_id`` or seed 002's ``simulation_id``) and its value."""

    run_id: str = Field(validation_alias=AliasChoices("run_id", "simulation_id"))


class RunPointIn(PointValue):
    """A point for the run the path names; a body run id, if given, must be the same."""

    run_id: str | None = Field(None, validation_alias=AliasChoices("run_id", "simulation_id"))


class PointStreamEnd(BaseModel):
    """The last event of a run's point stream."""

    complete: Literal[True]


class SeriesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, max_length=200, description="One series (default: all)")


class StreamQuery(SeriesQuery):
    since: QueryTime | None = Field(None, description="Only points recorded after this time")
    since_step: int | None = Field(None, ge=-1, description="Only points after this step")


class PointsOut(BaseModel):
    """Points of a run's series and whether the run has finished (no more will come)."""

    run_id: str
    simulation_id: str = Field(description="The run, in seed 002's words (same as run_id)")
    points: list[MetricPointOut]
    complete: bool
    last_step: int | None = None
    last_timestamp: datetime | None = None


class GraphOut(BaseModel):
    """One series as parallel arrays, ready to plot, and whether it is complete."""

    run_id: str
    simulation_id: str = Field(description="The run, in seed 002's words (same as run_id)")
    name: str
    steps: list[int]
    values: list[float]
    loss_values: list[float] = Field(description="The values, in seed 002's words "
                                                 "(same as values)")
    timestamps: list[datetime]
    count: int
    complete: bool


def register(api: Api) -> Blueprint:
    bp = Blueprint("convergence", __name__, url_prefix="/api/v1/convergence")
    tags = ["convergence"]

    @api.operation(bp, "/data", "POST", tags=tags, authenticate=current_user, body=PointIn,
                   responses={201: MetricPointOut})
    def add_point(user: User, body: PointIn) -> MetricPointOut:
        """Add a point to a run's series (the step defaults to one after the last).

        A run that has finished takes no more points (409).
        """
        return metric_out(platform().metrics.append_metric(metrics.AppendMetric(
            body.run_id, user.id, body.name, body.value, body.step, body.timestamp)))

    @api.operation(bp, "/<run_id>/add-bare-sql", "POST", tags=tags, authenticate=current_user,
                   body=RunPointIn, responses={201: MetricPointOut})
    def add_run_point(user: User, run_id: str, body: RunPointIn) -> MetricPointOut:
        """Add a point to the run the path names (seed 002's add-bare-sql).

        The same as POST /convergence/data with the run in the path; a body
        ``simulation_id`` (or ``run_id``) naming another run is a 400.
        """
        if body.run_id is not None and body.run_id != run_id:
            raise ValidationError(f"the body names run '{body.run_id}' but the path names "
                                  f"run '{run_id}'")
        return metric_out(platform().metrics.append_metric(metrics.AppendMetric(
            run_id, user.id, body.name, body.value, body.step, body.timestamp)))

    @api.operation(bp, "/<run_id>/data", "GET", tags=tags, authenticate=current_user,
                   query=SeriesQuery, responses={200: PointsOut})
    def all_points(user: User, run_id: str, query: SeriesQuery) -> PointsOut:
        """Every point of a run's series."""
        return _points(run_id, user, query.name, None, None)

    @api.operation(bp, "/<run_id>/stream", "GET", tags=tags, authenticate=current_user,
                   query=StreamQuery, responses={200: PointsOut})
    def new_points(user: User, run_id: str, query: StreamQuery) -> PointsOut:
        """Points added since a time or a step: poll this for incremental updates."""
        return _points(run_id, user, query.name, query.since_step, query.since)

    @api.operation(bp, "/<run_id>/graph", "GET", tags=tags, authenticate=current_user,
                   query=SeriesQuery, responses={200: GraphOut})
    def graph(user: User, run_id: str, query: SeriesQuery) -> GraphOut:
        """One series as arrays for plotting, with a completion flag."""
        name = query.name or "loss"
        series = platform().metrics.metric_series(run_id, user.id, name)
        values = [p.value for p in series.points]
        return GraphOut(run_id=run_id, simulation_id=run_id, name=name,
                        steps=[p.step for p in series.points], values=values,
                        loss_values=values, timestamps=[p.at for p in series.points],
                        count=len(series.points), complete=series.complete)

    @api.operation(bp, "/<run_id>/events", "GET", tags=tags, authenticate=current_user,
                   errors=frozenset({429}),
                   query=StreamQuery,
                   responses={200: Raw(
                       "text/event-stream", "Points as server-sent events, then an end event",
                       events={"point": Event("a point (its step is the event's id)",
                                              MetricPointOut),
                               "end": Event("the run finished and every point was sent",
                                            PointStreamEnd)})})
    def point_events(user: User, run_id: str, query: StreamQuery) -> Response:
        """Live points as server-sent events until the run finishes."""
        platform().metrics.metric_series(run_id, user.id, query.name, since_step=2**31)
        return metric_stream(run_id, user.id, shared_platform(), query.name,
                             query.since_step, query.since, hold(context().streams, user.id))

    return bp


def _points(run_id: str, user: User, name: str | None, since_step: int | None,
            since: datetime | None) -> PointsOut:
    series = platform().metrics.metric_series(run_id, user.id, name, since_step, since)
    last = series.points[-1] if series.points else None
    return PointsOut(run_id=run_id, simulation_id=run_id,
                     points=[metric_out(p) for p in series.points],
                     complete=series.complete, last_step=last.step if last else None,
                     last_timestamp=max((p.at for p in series.points), default=None))
