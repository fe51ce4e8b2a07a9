"""A blob store in memory, for tests and throwaway platforms."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from simdock.errors import NotFound
from simdock_adapters.blobs.keys import check_key


class MemoryBlobStore:
    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream"
            ) -> None:
        with self._lock:
            self._blobs[check_key(key)] = bytes(data)

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream"
                 ) -> int:
        data = Path(path).read_bytes()
        self.put(key, data, content_type)
        return len(data)

    def put_stream(self, key: str, chunks: Iterable[bytes],
                   content_type: str = "application/octet-stream") -> int:
        data = b"".join(chunks)
        self.put(key, data, content_type)
        return len(data)

    def get(self, key: str) -> bytes:
        with self._lock:
            try:
                return self._blobs[check_key(key)]
            except KeyError:
                raise NotFound("blob", key) from None

    def open(self, key: str) -> Iterator[bytes]:
        return iter([self.get(key)])

    def exists(self, key: str) -> bool:
        with self._lock:
            return check_key(key) in self._blobs

    def delete(self, key: str) -> None:
        with self._lock:
            self._blobs.pop(check_key(key), None)

    def list(self, prefix: str) -> list[str]:
        with self._lock:
            return sorted(k for k in self._blobs if k.startswith(prefix))

    def url(self, key: str, expires_in: int) -> str | None:
        return None

    def upload_url(self, key: str, expires_in: int) -> str | None:
        return None

    def local_path(self, key: str) -> Path | None:
        return None

    def check(self) -> None:
        return None
