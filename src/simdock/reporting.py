"""The built-in ``summary`` report: what ran, how it ended, and result statistics."""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any, ClassVar

from simdock.handlers import ReportHandler
from simdock.pdf import markdown_pdf


class SummaryReportHandler(ReportHandler):
    """Summarises runs: counts by status, one row per run, and per-field statistics.

    Row columns are the run's parameters and the scalar fields of its result
    (nested objects are flattened with dots; arrays are left out).
    """

    formats: ClassVar[frozenset[str]] = frozenset({"json", "csv", "markdown", "html", "pdf"})

    def generate(
        self,
        report_id: str,
        report_type: str,
        output_format: str,
        parameters: Mapping[str, Any],
        simulation_results: list[dict[str, Any]],
    ) -> tuple[bytes, str, str]:
        summary = summarise(simulation_results)
        summary["report_id"] = report_id
        fmt = output_format.lower()
        if fmt == "json":
            return json.dumps(summary, indent=2).encode(), "application/json", "report.json"
        if fmt == "csv":
            return _csv(summary["rows"]).encode(), "text/csv", "report.csv"
        if fmt == "markdown":
            return "\n".join(_markdown(summary)).encode(), "text/markdown", "report.md"
        if fmt == "html":
            return _html(summary).encode(), "text/html", "report.html"
        return markdown_pdf(_markdown(summary), f"simdock report {report_id}"), \
            "application/pdf", "report.pdf"


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for entry in results:
        row: dict[str, Any] = {"job_id": entry["job_id"], "run_id": entry["run_id"],
                               "index": entry["index"], "status": entry["status"]}
        row.update(_flatten(entry.get("parameters") or {}, "param."))
        row.update(_flatten(entry.get("result") or {}, "result."))
        if entry.get("error"):
            row["error"] = entry["error"]
        if entry.get("duration_seconds") is not None:
            row["duration_seconds"] = entry["duration_seconds"]
        rows.append(row)
    numeric: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if key.startswith("result.") and isinstance(value, int | float) \
                    and not isinstance(value, bool) and math.isfinite(value):
                numeric.setdefault(key, []).append(float(value))
    stats = {
        key: {"count": len(v), "min": min(v), "mean": sum(v) / len(v), "max": max(v)}
        for key, v in numeric.items()
    }
    counts = Counter(str(e["status"]) for e in results)
    return {"runs": len(results), "status_counts": dict(counts), "statistics": stats,
            "rows": rows}


def _flatten(value: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        return {prefix.rstrip("."): value} if not isinstance(value, list) else {}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, Mapping):
            flat.update(_flatten(item, f"{prefix}{key}."))
        elif not isinstance(item, list):
            flat[f"{prefix}{key}"] = item
    return flat


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_columns(rows), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _markdown(summary: dict[str, Any]) -> list[str]:
    lines = [f"# Summary report {summary.get('report_id', '')}", "",
             f"Runs: {summary['runs']}", ""]
    lines += [f"- {status}: {n}" for status, n in sorted(summary["status_counts"].items())]
    if summary["statistics"]:
        lines += ["", "| field | count | min | mean | max |", "|---|---|---|---|---|"]
        for key, s in summary["statistics"].items():
            lines.append(f"| {key} | {s['count']} | {s['min']:.6g} | {s['mean']:.6g} "
                         f"| {s['max']:.6g} |")
    lines += ["", "## Runs", ""]
    for row in summary["rows"]:
        params = ", ".join(f"{k[6:]}={v}" for k, v in row.items() if k.startswith("param."))
        lines.append(f"- {row['run_id']} [{row['status']}] {params}")
    return lines


def _html(summary: dict[str, Any]) -> str:
    columns = _columns(summary["rows"])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>"
        for row in summary["rows"]
    )
    counts = "".join(f"<li>{html.escape(s)}: {n}</li>"
                     for s, n in sorted(summary["status_counts"].items()))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>simdock report</title>"
            f"</head><body><h1>Summary report</h1><p>Runs: {summary['runs']}</p>"
            f"<ul>{counts}</ul><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></body></html>")
