"""A job's results archive, streamed: a zip of ``runs.csv`` (a row per run: its index,
id, status and error, then a column per parameter and per result field) and
``runs.jsonl`` (each run's parameters and result whole, a JSON object per line).

The zip is written as the rows are read, a page of runs at a time, so that the
download of a 100,000-run sweep starts at once and never sits in memory whole:
``runs.jsonl`` is spooled (to disk past a few megabytes) while ``runs.csv`` is sent.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from simdock import codec
from simdock.usecases.results import ResultLayout, ResultRow

#: Past this size the JSON lines wait on disk rather than in memory.
SPOOL_BYTES = 8 * 1024 * 1024
#: Text a spreadsheet would take for a formula, from the start of a cell.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def archive(layout: ResultLayout, rows: Iterable[ResultRow]) -> Iterator[bytes]:
    """The zip's bytes, in chunks, as ``rows`` are read."""
    sink = _Sink()
    with (zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as packed,
          tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as lines):
        with packed.open("runs.csv", "w", force_zip64=True) as entry:
            text = io.TextIOWrapper(entry, encoding="utf-8", newline="")
            table = csv.writer(text)
            table.writerow(["index", "run_id", "status", "error", *layout.parameters,
                            *layout.results])
            for row in rows:
                table.writerow(_cells(layout, row))
                lines.write(json.dumps(_record(row), ensure_ascii=False).encode() + b"\n")
                text.flush()
                yield from sink.taken()
            text.flush()
            text.detach()
        lines.seek(0)
        with packed.open("runs.jsonl", "w", force_zip64=True) as entry:
            shutil.copyfileobj(lines, entry, 1024 * 1024)
    yield from sink.taken()


class _Sink(io.RawIOBase):
    """Where the zip writes: what it wrote is taken away in chunks (it cannot seek, so
    the zip describes each entry after its data)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def taken(self) -> Iterator[bytes]:
        """What was written since last taken, if anything."""
        if self.parts:
            yield b"".join(self.parts)
            self.parts.clear()


def _record(row: ResultRow) -> dict[str, Any]:
    return {"index": row.index, "run_id": row.run_id, "status": row.status.value,
            "parameters": codec.plain(row.parameters), "result": codec.plain(row.result),
            "error": row.error}


def _cells(layout: ResultLayout, row: ResultRow) -> list[Any]:
    result = codec.plain(row.result)
    fields = result if isinstance(result, dict) else {}
    parameters = codec.plain(row.parameters)
    return [row.index, row.run_id, row.status.value, _cell(row.error),
            *(_cell(parameters.get(name)) for name in layout.parameters),
            *(_cell(fields.get(name)) for name in layout.results)]


def _cell(value: Any) -> Any:
    """A value as a spreadsheet should show it: numbers as numbers, nothing as empty,
    lists and objects as JSON, and text that would start a formula quoted as text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
