"""Payload references: a JSON value kept inline or in the blob store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Payload:
    """A stored JSON value: inline when small, a blob key when large.

    Repositories keep this; use cases resolve it, so callers never see where
    the value lives (seed 000's hybrid storage).
    """

    inline: Any = None
    blob_key: str | None = None
    size: int = 0

    @property
    def in_blob(self) -> bool:
        return self.blob_key is not None

    def to_record(self) -> dict[str, Any]:
        """A JSON form for storage columns."""
        if self.blob_key is not None:
            return {"$blob": self.blob_key, "size": self.size}
        return {"$inline": self.inline, "size": self.size}

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> Payload | None:
        if record is None:
            return None
        if "$blob" in record:
            return cls(blob_key=record["$blob"], size=int(record.get("size", 0)))
        return cls(inline=record.get("$inline"), size=int(record.get("size", 0)))
