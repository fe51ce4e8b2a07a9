"""Reports, machines and metric series."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest

from simdock.clock import ManualClock
from simdock.domain import MachineStatus, ReportStatus, SweepSpec
from simdock.errors import Conflict, NotFound, UnknownReportType, ValidationError
from simdock.handlers import ReportHandler
from simdock.paging import PageRequest
from simdock.usecases import machines, metrics, reports
from simdock.usecases.submit import SubmitRun, SubmitSweep
from tests.unit.fakes import ADMIN, QueueDispatcher, make_platform


def finished_sweep(platform: Any) -> str:
    job = platform.submitting.submit_sweep(
        SubmitSweep("usr-a", "echo", SweepSpec(grid={"x": [1, 2, 3]}))).job
    platform.dispatcher.drain()
    return job.id


@pytest.mark.parametrize(("fmt", "signature"), [
    ("json", b"{"), ("csv", b"job_id,"), ("markdown", b"# Summary"), ("html", b"<!doctype"),
    ("PDF", b"%PDF-1."),
])
def test_summary_report_in_every_format(fmt: str, signature: bytes) -> None:
    platform = make_platform()
    job_id = finished_sweep(platform)
    report = platform.reporting.request_report(
        reports.RequestReport("usr-a", "summary", [job_id], fmt))
    with pytest.raises(Conflict):
        platform.reporting.report_content(report.id, "usr-a")
    platform.dispatcher.drain()
    stored, content = platform.reporting.report_content(report.id, "usr-a")
    assert stored.status is ReportStatus.SUCCEEDED and content.startswith(signature)
    if fmt == "json":
        summary = json.loads(content)
        assert summary["runs"] == 3 and summary["statistics"]["result.echo.x"]["mean"] == 2.0


def test_unknown_report_type_and_format_are_refused() -> None:
    platform = make_platform()
    job_id = finished_sweep(platform)
    with pytest.raises(UnknownReportType, match="summary"):
        platform.reporting.request_report(reports.RequestReport("usr-a", "nope", [job_id]))
    with pytest.raises(ValidationError, match="formats"):
        platform.reporting.request_report(
            reports.RequestReport("usr-a", "summary", [job_id], "docx"))
    with pytest.raises(ValidationError, match="non-empty"):
        platform.reporting.request_report(reports.RequestReport("usr-a", "summary", []))
    with pytest.raises(NotFound):
        platform.reporting.request_report(reports.RequestReport("usr-a", "summary", ["job-x"]))


def test_a_failing_report_handler_fails_the_report_with_its_message() -> None:
    class Broken(ReportHandler):
        formats: ClassVar[frozenset[str]] = frozenset({"json"})

        def generate(self, report_id: str, report_type: str, output_format: str,
                     parameters: Mapping[str, Any], simulation_results: list[dict[str, Any]]
                     ) -> tuple[bytes, str, str]:
            raise ValueError("no template")

    platform = make_platform()
    platform.reports.register("broken", Broken())
    job_id = finished_sweep(platform)
    report = platform.reporting.request_report(reports.RequestReport("usr-a", "broken", [job_id]))
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    stored = platform.reporting.get_report(report.id, "usr-a")
    assert stored.status is ReportStatus.FAILED and "no template" in (stored.error or "")
    assert platform.reporting.list_reports("usr-a", PageRequest()).total == 1
    assert platform.reporting.list_reports("usr-b", PageRequest()).total == 0


def test_machines_register_list_and_change_status() -> None:
    platform = make_platform()
    machine = platform.machines.register_machine(
        machines.RegisterMachine("node-1", "AMD EPYC 32", 128, gpu="A100"))
    assert machine.id.startswith("mach-") and machine.status is MachineStatus.AVAILABLE
    platform.machines.set_machine_status(machine.id, "busy", ADMIN)
    assert platform.machines.get_machine(machine.id).status is MachineStatus.BUSY
    busy = platform.machines.list_machines(MachineStatus.BUSY, PageRequest())
    assert [m.id for m in busy.items] == [machine.id]
    with pytest.raises(ValidationError, match="available, busy, maintenance"):
        platform.machines.set_machine_status(machine.id, "asleep", ADMIN)
    with pytest.raises(NotFound):
        platform.machines.get_machine("mach-x")


@pytest.mark.parametrize(("name", "cpu", "memory"), [
    ("", "x", 1), ("n", "", 1), ("n", "x", 0), ("n", "x", float("nan")), ("n", "x", True)])
def test_bad_machines_are_refused(name: str, cpu: str, memory: float) -> None:
    with pytest.raises(ValidationError):
        make_platform().machines.register_machine(machines.RegisterMachine(name, cpu, memory))


def test_placing_a_run_on_a_machine() -> None:
    platform = make_platform()
    run_id = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {})).run_ids[0]
    machine = platform.machines.register_machine(machines.RegisterMachine("n", "x", 4))
    assert platform.machines.place_run(run_id, machine.id, "usr-a").machine_id == machine.id
    with pytest.raises(NotFound):
        platform.machines.place_run(run_id, machine.id, "usr-b")


def test_metric_series_all_since_step_and_since_time() -> None:
    platform = make_platform()
    clock = platform.clock
    assert isinstance(clock, ManualClock)
    run_id = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {})).run_ids[0]
    start = clock.now()
    for value in (1.0, 0.5, 0.25, 0.125):
        platform.metrics.append_metric(metrics.AppendMetric(run_id, "usr-a", "loss", value))
        clock.advance(1)
    series = platform.metrics.metric_series(run_id, "usr-a", "loss")
    assert [p.step for p in series.points] == [0, 1, 2, 3] and not series.complete
    since_step = platform.metrics.metric_series(run_id, "usr-a", "loss", since_step=1)
    assert [p.value for p in since_step.points] == [0.25, 0.125]
    since_time = platform.metrics.metric_series(run_id, "usr-a", since=start + timedelta(seconds=2))
    assert [p.step for p in since_time.points] == [3]
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    assert platform.metrics.metric_series(run_id, "usr-a").complete


@pytest.mark.parametrize(("value", "step"), [(float("inf"), None), ("1", None), (1.0, -1),
                                             (1.0, 1.5), (True, None)])
def test_bad_metric_points_are_refused(value: Any, step: Any) -> None:
    platform = make_platform()
    run_id = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {})).run_ids[0]
    with pytest.raises(ValidationError):
        platform.metrics.append_metric(metrics.AppendMetric(run_id, "usr-a", "loss", value, step))


def test_times_without_a_zone_are_taken_as_utc_and_out_of_range_ones_refused() -> None:
    platform = make_platform()
    run_id = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {})).run_ids[0]
    naive = datetime(2026, 1, 1, 12, 0)
    point = platform.metrics.append_metric(
        metrics.AppendMetric(run_id, "usr-a", "loss", 1.0, at=naive))
    assert point.at == naive.replace(tzinfo=UTC)
    assert platform.metrics.metric_series(run_id, "usr-a", since=naive).points == []
    far = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    with pytest.raises(ValidationError, match="out of range"):
        platform.metrics.append_metric(metrics.AppendMetric(run_id, "usr-a", "loss", 1.0, at=far))


def test_a_metric_series_has_no_step_after_the_largest_whoever_writes_it() -> None:
    from simdock.domain import MetricPoint
    from simdock.domain.records import MAX_STEP

    platform = make_platform()
    run_id = platform.submitting.submit_run(SubmitRun("usr-1", "echo", {})).run_ids[0]
    platform.metrics.append_metric(metrics.AppendMetric(run_id, "usr-1", "loss", 1.0, MAX_STEP))
    with pytest.raises(ValidationError, match=f"no step after {MAX_STEP}"):
        platform.metrics.append_metric(metrics.AppendMetric(run_id, "usr-1", "loss", 2.0))
    context = platform.recording.context(run_id, "job")
    context.metric("loss", 1.0, MAX_STEP)
    with pytest.raises(ValidationError, match=f"no step after {MAX_STEP}"):
        context.metric("loss", 2.0)
    for bad in ({"step": -1}, {"step": MAX_STEP + 1}, {"step": True}, {"value": float("nan")},
                {"value": True}, {"name": ""}, {"name": " "}, {"name": "a\x00"}):
        fields = {"run_id": run_id, "name": "loss", "step": 0, "value": 1.0,
                  "at": platform.clock.now(), **bad}
        with pytest.raises(ValidationError):
            MetricPoint(**fields)  # type: ignore[arg-type]


def test_a_machine_is_changed_by_its_creator_or_an_administrator_only() -> None:
    from simdock.domain import User
    from simdock.errors import UnauthorizedOperation

    platform = make_platform()
    creator = User("usr-c", "c@example.com", platform.clock.now())
    other = User("usr-o", "o@example.com", platform.clock.now())
    machine = platform.machines.register_machine(
        machines.RegisterMachine("node", "x86", 8, created_by=creator.id))
    with pytest.raises(UnauthorizedOperation, match="creator and by administrators"):
        platform.machines.set_machine_status(machine.id, "maintenance", other)
    assert platform.machines.get_machine(machine.id).status is MachineStatus.AVAILABLE
    assert platform.machines.set_machine_status(machine.id, "busy", creator).status \
        is MachineStatus.BUSY
    assert platform.machines.set_machine_status(machine.id, "maintenance", ADMIN).status \
        is MachineStatus.MAINTENANCE
    anonymous = platform.machines.register_machine(machines.RegisterMachine("old", "x86", 8))
    with pytest.raises(UnauthorizedOperation):  # registered before machines had creators
        platform.machines.set_machine_status(anonymous.id, "busy", creator)
