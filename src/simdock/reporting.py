"""The built-in ``summary`` report: what ran, how it ended, and result statistics."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from simdock import report_plots
from simdock.handlers import ReportHandler
from simdock.pdf import markdown_pdf
from simdock.report_plots import Plot
from simdock.report_points import points, varied

#: At most this many numeric fields get a table of their points, of at most this many rows.
MAX_FIELDS = 6
MAX_POINT_ROWS = 200


class SummaryReportHandler(ReportHandler):
    """Summarises runs: counts by status, per-field statistics, the parameter points (runs
    that differ only by seed taken together: n, mean and 95% interval of each numeric
    result field), one row per run, and, in HTML and PDF, plots of the means against each
    varied parameter with their intervals as error bars and the runs' convergence curves.

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
        plots = _plots(simulation_results)
        if fmt == "html":
            return _html(summary, plots).encode(), "text/html", "report.html"
        lines = _markdown(summary, [f"![{plot.caption}](plot-{i})"
                                    for i, plot in enumerate(plots)] or _no_plots())
        images = {f"plot-{i}": plot.png for i, plot in enumerate(plots)}
        return markdown_pdf(lines, f"simdock report {report_id}", images), \
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
    found = points(results)
    return {"runs": len(results), "status_counts": dict(counts), "statistics": stats,
            "varied": varied(found), "points": [point.to_record() for point in found],
            "rows": rows}


def _no_plots() -> list[str]:
    """What the plots section says when it has none."""
    if not report_plots.available():
        return ["No plots: they are drawn by matplotlib, which is not installed here "
                "(pip install 'simdock[plot]')."]
    return ["No plots: no numeric result differs between points, and no run reported "
            "metrics."]


def _plots(results: list[dict[str, Any]]) -> list[Plot]:
    """The report's plots: means against parameters, then convergence curves."""
    if not report_plots.available():
        return []
    found = points(results)
    curves = [(f"run {entry['index']}", entry["metrics"]) for entry in results
              if entry.get("metrics")]
    names = varied(found)
    return [*report_plots.curve_plots(found, names), *report_plots.mean_plots(found, names),
            *report_plots.convergence_plots(curves)]


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


def _markdown(summary: dict[str, Any], images: Sequence[str] = ()) -> list[str]:
    lines = [f"# Summary report {summary.get('report_id', '')}", "",
             f"Runs: {summary['runs']}", ""]
    lines += [f"- {status}: {n}" for status, n in sorted(summary["status_counts"].items())]
    if summary["statistics"]:
        lines += ["", "| field | count | min | mean | max |", "|---|---|---|---|---|"]
        for key, s in summary["statistics"].items():
            lines.append(f"| {key} | {s['count']} | {s['min']:.6g} | {s['mean']:.6g} "
                         f"| {s['max']:.6g} |")
    tables = _point_tables(summary)
    if tables:
        lines += ["", "## Parameter points", "", _points_intro(summary)]
    for table in tables:
        lines += ["", f"### {table.title}", "", "| " + " | ".join(table.header) + " |",
                  "|" + "---|" * len(table.header),
                  *("| " + " | ".join(row) + " |" for row in table.rows)]
        if table.note:
            lines += ["", table.note]
    if images:
        lines += ["", "## Plots", "", *images]
    lines += ["", "## Runs", ""]
    for row in summary["rows"]:
        params = ", ".join(f"{k[6:]}={v}" for k, v in row.items() if k.startswith("param."))
        lines.append(f"- {row['run_id']} [{row['status']}] {params}")
    return lines


@dataclass(frozen=True)
class Table:
    """A table of a report, whatever its form: a title, the header, rows, a note under it."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


def _point_tables(summary: dict[str, Any]) -> list[Table]:
    """A table per numeric field (the first few): a row per parameter point (the first
    ones), its runs, n, mean, standard deviation and 95% interval."""
    found, names = summary["points"], summary["varied"]
    fields = list(dict.fromkeys(f for point in found for f in point["fields"]))
    tables = []
    for field in fields[:MAX_FIELDS]:
        rows = []
        for point in found[:MAX_POINT_ROWS]:
            s = point["fields"].get(field)
            cells = [_cell(point["flat"].get(name)) for name in names]
            cells += [str(point["runs"])] + ([str(s["n"]), f"{s['mean']:.6g}", _number(s["std"]),
                                              _interval(s)] if s else ["0", "", "", ""])
            rows.append(cells)
        note = (f"The first {MAX_POINT_ROWS} of {len(found)} points; the JSON form has them "
                "all." if len(found) > MAX_POINT_ROWS else "")
        tables.append(Table(field, [*names, "runs", "n", "mean", "std", "95% interval"], rows,
                            note))
    return tables


def _points_intro(summary: dict[str, Any]) -> str:
    fields = {f for point in summary["points"] for f in point["fields"]}
    more = f" The first {MAX_FIELDS} of {len(fields)} numeric fields." \
        if len(fields) > MAX_FIELDS else ""
    return (f"{len(summary['points'])} point(s): runs of a job that differ only by their seed "
            f"are one point.{more}")


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text.replace("|", "/")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _interval(s: Mapping[str, Any]) -> str:
    return "" if s["low"] is None else f"[{s['low']:.6g}, {s['high']:.6g}]"


def _html(summary: dict[str, Any], plots: Sequence[Plot]) -> str:
    columns = _columns(summary["rows"])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>"
        for row in summary["rows"]
    )
    counts = "".join(f"<li>{html.escape(s)}: {n}</li>"
                     for s, n in sorted(summary["status_counts"].items()))
    figures = "".join(
        f"<figure><img alt='{html.escape(plot.caption)}' src='data:image/png;base64,"
        f"{base64.b64encode(plot.png).decode()}'><figcaption>{html.escape(plot.caption)}"
        "</figcaption></figure>" for plot in plots)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>simdock report</title>"
            f"<style>table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;"
            f"padding:2px 6px}}img{{max-width:100%}}</style>"
            f"</head><body><h1>Summary report</h1><p>Runs: {summary['runs']}</p>"
            f"<ul>{counts}</ul>{_html_points(summary)}"
            f"{'<h2>Plots</h2>' + (figures or ''.join(f'<p>{n}</p>' for n in _no_plots()))}"
            f"<h2>Runs</h2><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></body></html>")


def _html_points(summary: dict[str, Any]) -> str:
    tables = _point_tables(summary)
    if not tables:
        return ""
    parts = ["<h2>Parameter points</h2>", f"<p>{html.escape(_points_intro(summary))}</p>"]
    for table in tables:
        parts += [f"<h3>{html.escape(table.title)}</h3><table><thead><tr>",
                  *(f"<th>{html.escape(cell)}</th>" for cell in table.header),
                  "</tr></thead><tbody>",
                  *("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                    for row in table.rows),
                  "</tbody></table>"]
        if table.note:
            parts.append(f"<p>{html.escape(table.note)}</p>")
    return "".join(parts)
