"""A job's results as rows (the notebook's table, the dashboard's download): every run in
index order, a page at a time, with its parameters and its result or error."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from simdock.domain import RunStatus, SweepSpec
from simdock.errors import NotFound
from simdock.ports import RunContext
from simdock.usecases import results
from simdock.usecases.submit import SubmitSweep
from simdock_adapters.http.results_archive import archive
from tests.unit.fakes import FakeExecutor, QueueDispatcher, make_platform


def model(parameters: Any, context: RunContext) -> dict[str, Any]:
    if parameters["n"] == 3:
        raise RuntimeError("n = 3 diverges")
    return {"y": parameters["n"] * 10, "series": [parameters["n"]] * 2}


def swept(grid: dict[str, list[Any]]) -> tuple[Any, str]:
    platform = make_platform(FakeExecutor({"model": model}))
    job = platform.submitting.submit_sweep(SubmitSweep(
        "usr-1", "model", SweepSpec(base={"label": "=1+1"}, grid=grid)))
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    return platform, job.job.id


def test_rows_come_in_index_order_across_pages_with_a_result_or_an_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "PAGE_SIZE", 2)
    platform, job_id = swept({"n": [1, 2, 3, 4, 5]})

    rows = list(platform.results.job_rows(job_id, "usr-1"))

    assert [row.index for row in rows] == [0, 1, 2, 3, 4]
    assert [row.status for row in rows] == [RunStatus.SUCCEEDED] * 2 + [
        RunStatus.FAILED] + [RunStatus.SUCCEEDED] * 2
    assert rows[0].parameters == {"label": "=1+1", "n": 1}
    assert rows[0].result == {"y": 10, "series": [1, 1]} and rows[0].error is None
    assert rows[2].result is None and "n = 3 diverges" in (rows[2].error or "")
    assert rows[0].flat() == {"label": "=1+1", "n": 1, "run_id": rows[0].run_id,
                              "status": "succeeded", "y": 10, "series": [1, 1]}
    assert rows[2].flat()["error"] == rows[2].error
    layout = platform.results.layout(job_id, "usr-1")
    assert (layout.parameters, layout.results) == (["label", "n"], ["y", "series"])


def test_another_users_job_is_not_found_before_any_row() -> None:
    platform, job_id = swept({"n": [1]})
    with pytest.raises(NotFound):
        platform.results.job_rows(job_id, "usr-2")
    with pytest.raises(NotFound):
        platform.results.layout(job_id, "usr-2")


def test_the_archive_holds_a_csv_table_and_every_run_whole() -> None:
    platform, job_id = swept({"n": [1, 2, 3]})
    zipped = b"".join(archive(platform.results.layout(job_id, "usr-1"),
                              platform.results.job_rows(job_id, "usr-1")))

    with zipfile.ZipFile(io.BytesIO(zipped)) as opened:
        assert opened.namelist() == ["runs.csv", "runs.jsonl"]
        table = opened.read("runs.csv").decode().splitlines()
        lines = [json.loads(line) for line in opened.read("runs.jsonl").splitlines()]
    assert table[0] == "index,run_id,status,error,label,n,y,series"
    assert table[1].split(",")[2:] == ["succeeded", "", "'=1+1", "1", "10", '"[1', ' 1]"']
    assert table[3].split(",")[2] == "failed" and "n = 3 diverges" in table[3]
    assert [line["index"] for line in lines] == [0, 1, 2]
    assert lines[1]["parameters"] == {"label": "=1+1", "n": 2}  # the record keeps it as is
    assert lines[1]["result"] == {"y": 20, "series": [2, 2]} and lines[1]["error"] is None


def test_the_archive_is_sent_while_its_rows_are_still_being_read() -> None:
    read = []

    def rows() -> Any:
        for index in range(20_000):
            read.append(index)
            yield results.ResultRow(index, f"run-{index}", RunStatus.SUCCEEDED,
                                    {"n": index}, {"y": index * 0.5}, None)

    chunks = archive(results.ResultLayout(["n"], ["y"]), rows())
    first = next(chunks)
    assert first.startswith(b"PK") and len(read) < 20_000
    zipped = first + b"".join(chunks)
    with zipfile.ZipFile(io.BytesIO(zipped)) as opened:
        assert len(opened.read("runs.csv").splitlines()) == 20_001
