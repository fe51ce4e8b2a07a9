"""Hybrid storage: JSON values inline in the repository or in the blob store.

Values whose JSON is larger than the threshold (``PARAMETERS_SIZE_THRESHOLD``,
100 KB by default) are written to the blob store and the repository keeps
only a reference; :meth:`PayloadStore.load` hides the difference.
"""

from __future__ import annotations

from typing import Any

from simdock import codec
from simdock.domain import Payload
from simdock.ports import BlobStore

DEFAULT_THRESHOLD = 100 * 1024
#: How JSON writes a NUL character (it always escapes control characters).
_NUL_IN_JSON = b"\\u0000"


class PayloadStore:
    """Decides where a payload lives and reads it back."""

    def __init__(self, blobs: BlobStore, threshold: int = DEFAULT_THRESHOLD) -> None:
        self.blobs = blobs
        self.threshold = threshold

    def store(self, key: str, value: Any) -> Payload:
        """Keep an encoded JSON value inline when small, else under ``key`` in blobs.

        A value holding a NUL character goes to the blob store whatever its size: a
        simulation's result is kept as it was returned, and some databases cannot
        hold NUL in their JSON columns.
        """
        data = codec.dumps(value)
        if len(data) <= self.threshold and _NUL_IN_JSON not in data:
            return Payload(inline=value, size=len(data))
        self.blobs.put(key, data, "application/json")
        return Payload(blob_key=key, size=len(data))

    def discard(self, payload: Payload) -> None:
        """Remove what ``store`` wrote for ``payload`` (nothing, when it was inline)."""
        if payload.blob_key is not None:
            self.blobs.delete(payload.blob_key)

    def load(self, payload: Payload | None) -> Any:
        """The encoded JSON value a payload refers to."""
        if payload is None:
            return None
        if payload.blob_key is None:
            return payload.inline
        return codec.loads(self.blobs.get(payload.blob_key))
