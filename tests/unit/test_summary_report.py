"""The summary report shows the answer: runs that differ only by seed are one parameter
point (n, mean, interval), with plots of the means and their intervals against each
varied parameter and the runs' convergence curves (HTML inline, PDF read back by poppler)."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simdock.report_points import FieldSummary, points, varied
from simdock.reporting import SummaryReportHandler
from tests.pdfs import coloured_pixels, pages, pdf_text

T_975_4 = 2.7764451051977987  # Student's t, 97.5% quantile, 4 degrees of freedom


def replicated(xs: tuple[float, ...] = (1.0, 2.0, 3.0), seeds: int = 5) -> list[dict[str, Any]]:
    """A job's runs: each x with ``seeds`` seeds, estimate = x**2 + noise; the first runs
    report a metric; one more run of x=1 failed."""
    rng = np.random.default_rng(3)
    entries = []
    for index, (x, seed) in enumerate((x, s) for s in range(seeds) for x in xs):
        entry: dict[str, Any] = {
            "job_id": "job-1", "run_id": f"run-{index}", "index": index,
            "status": "succeeded", "seed_parameter": "seed",
            "parameters": {"x": x, "iterations": 100, "seed": 1000 + seed},
            "result": {"estimate": x * x + float(rng.normal(0, 0.1)), "n": 100}}
        if index < 3:
            entry["metrics"] = {"std_error": [[step, 1 / (step + 1)] for step in range(20)]}
        entries.append(entry)
    entries.append({"job_id": "job-1", "run_id": "run-x", "index": len(entries),
                    "status": "failed", "seed_parameter": "seed", "error": "boom",
                    "parameters": {"x": 1.0, "iterations": 100, "seed": 7}, "result": None})
    return entries


def test_runs_that_differ_only_by_seed_are_one_point_with_its_interval() -> None:
    entries = replicated()
    found = points(entries)
    assert [p.parameters for p in found] == [{"x": x, "iterations": 100} for x in (1, 2, 3)]
    assert [(p.runs, p.succeeded) for p in found] == [(6, 5), (5, 5), (5, 5)]
    assert varied(found) == ["x"]
    values = [e["result"]["estimate"] for e in entries[:-1] if e["parameters"]["x"] == 2.0]
    summary = found[1].fields()["estimate"]
    mean, std = float(np.mean(values)), float(np.std(values, ddof=1))
    assert (summary.n, summary.mean, summary.std) == (5, pytest.approx(mean),
                                                      pytest.approx(std))
    half = T_975_4 * std / math.sqrt(5)
    assert (summary.low, summary.high) == (pytest.approx(mean - half),
                                           pytest.approx(mean + half))
    assert FieldSummary.of([4.0]).low is None  # one run: no interval


def test_a_sweep_without_seeds_has_a_point_per_run() -> None:
    entries = [{"job_id": "job-1", "status": "succeeded", "parameters": {"a": a},
                "result": {"y": a}} for a in range(4)]
    found = points(entries)
    assert [p.fields()["y"].n for p in found] == [1, 1, 1, 1] and varied(found) == ["a"]


def test_the_json_form_holds_every_point() -> None:
    document, _, _ = SummaryReportHandler().generate("rep-1", "summary", "json", {},
                                                      replicated())
    summary = json.loads(document)
    assert summary["varied"] == ["x"] and len(summary["points"]) == 3
    assert summary["points"][0]["fields"]["estimate"]["n"] == 5


def test_the_html_form_shows_the_point_tables_and_the_plots_inline() -> None:
    document, content_type, _ = SummaryReportHandler().generate("rep-1", "summary", "html",
                                                               {}, replicated())
    page = document.decode()
    assert content_type == "text/html"
    assert "<h2>Parameter points</h2>" in page and "<h3>estimate</h3>" in page
    images = page.split("src='data:image/png;base64,")[1:]
    assert len(images) == 2  # estimate against x (n is the same everywhere), convergence
    assert base64.b64decode(images[0].split("'")[0]).startswith(b"\x89PNG")
    assert "estimate against x: mean and 95% interval" in page
    assert "convergence of std_error, by run" in page


def test_the_pdf_form_draws_its_plots(tmp_path: Path) -> None:
    document, _, _ = SummaryReportHandler().generate("rep-plots", "summary", "pdf", {},
                                                      replicated())
    text = pdf_text(document, tmp_path)
    assert "Parameter points" in text and "95% interval" in text
    assert "estimate against x: mean and 95% interval" in text
    assert coloured_pixels(pages(document, "plots", tmp_path), spread=60) > 500


def test_a_sweep_not_replicated_is_summarised_per_point_in_a_notebook() -> None:
    from simdock import Dock
    from tests.unit.fakes import FakeExecutor, QueueDispatcher, make_platform

    def noisy(parameters: Any, context: Any) -> dict[str, Any]:
        rng = np.random.default_rng(parameters["seed"])
        return {"y": parameters["mu"] + float(rng.normal()), "seed": parameters["seed"]}

    executor = FakeExecutor({"noisy": noisy})
    executor.seeds["noisy"] = "seed"
    platform = make_platform(executor)
    sweep = Dock(platform, "ada@example.com").sweep(
        "noisy", grid={"mu": [0.0, 10.0], "seed": list(range(8))})
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()

    rows = sweep.summary().rows
    assert [(row["mu"], row["runs"], row["y.n"]) for row in rows] == [(0.0, 8, 8), (10.0, 8, 8)]
    assert all(row["y.low"] < row["y.mean"] < row["y.high"] for row in rows)
    assert "seed.n" not in rows[0]  # the seed echoed is no result
