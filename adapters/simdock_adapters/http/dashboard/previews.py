"""What a run page shows of an artifact inline: a PNG as an image, the first rows of a CSV,
a JSON document indented. Anything else (and anything too large) is only downloaded."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from simdock.domain import Artifact

#: The largest artifact read to show inline.
MAX_PREVIEW_BYTES = 1_000_000
#: How many rows of a CSV are shown.
CSV_ROWS = 20
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Preview:
    """How an artifact is shown: ``kind`` is "image", "table", "json" or "" (not shown)."""

    kind: str
    rows: list[list[str]] | None = None
    text: str | None = None


def kind_of(artifact: Artifact) -> str:
    """How an artifact can be shown, from its name and type, before reading it."""
    if artifact.size > MAX_PREVIEW_BYTES:
        return ""
    name = artifact.name.lower()
    if name.endswith(".png") or artifact.content_type == "image/png":
        return "image"
    if name.endswith(".csv") or artifact.content_type == "text/csv":
        return "table"
    if name.endswith(".json") or artifact.content_type == "application/json":
        return "json"
    return ""


def preview(artifact: Artifact, content: bytes) -> Preview:
    """The preview of an artifact from its bytes ("" kind when they are not what it says)."""
    kind = kind_of(artifact)
    try:
        if kind == "image":
            return Preview("image") if is_png(content) else Preview("")
        if kind == "table":
            reader = csv.reader(io.StringIO(content.decode("utf-8")))
            return Preview("table", rows=[row for _, row in zip(range(CSV_ROWS + 1), reader,
                                                                  strict=False)])
        if kind == "json":
            document: Any = json.loads(content)
            return Preview("json", text=json.dumps(document, indent=2, ensure_ascii=False))
    except (UnicodeDecodeError, ValueError, csv.Error):
        return Preview("")
    return Preview("")


def is_png(content: bytes) -> bool:
    return content.startswith(PNG_SIGNATURE)
