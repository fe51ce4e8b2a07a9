"""A blob store in a local directory: the embedded default."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from simdock.errors import Conflict, NotFound, ServiceUnavailable, ValidationError
from simdock_adapters.blobs.keys import check_key

CHUNK = 1024 * 1024
#: Temporary files start with a character keys cannot contain, so no key collides.
TMP_PREFIX = "~tmp-"


class LocalBlobStore:
    """Each key is a file below ``root``; writes are atomic (temp file + rename).

    Keys keep their names on disk so that artifacts can be opened where they
    lie; the price is that ``a`` and ``a/b`` cannot both be blobs here (the
    second is refused with Conflict).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _target(self, key: str) -> Path:
        """The file for a new blob, refusing keys that collide with another blob's path."""
        path = self._path(key)
        if path.is_dir():
            raise Conflict(f"blob key {key!r} is a prefix of other blobs' keys")
        for parent in path.relative_to(self.root).parents:
            if parent != Path(".") and (self.root / parent).is_file():
                raise Conflict(f"blob key {key!r} is below the blob {parent.as_posix()!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @staticmethod
    def _temporary(target: Path) -> tuple[int, str]:
        """A temporary file beside ``target``; its directory is made again if a delete
        removed it as empty meanwhile."""
        for _ in range(3):
            try:
                return tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX)
            except FileNotFoundError:
                target.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream"
            ) -> None:
        path = self._target(key)
        fd, tmp = self._temporary(path)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream"
                 ) -> int:
        target = self._target(key)
        fd, tmp = self._temporary(target)
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target.stat().st_size

    def put_stream(self, key: str, chunks: Iterable[bytes],
                   content_type: str = "application/octet-stream") -> int:
        target = self._target(key)
        fd, tmp = self._temporary(target)
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    size += len(chunk)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound("blob", key) from None

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise NotFound("blob", key)
        return self._chunks(path)

    @staticmethod
    def _chunks(path: Path) -> Iterator[bytes]:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the blob, and the directories it leaves empty (so a deleted run leaves
        nothing behind and its prefix can be a key again)."""
        path = self._path(key)
        if path.is_file():
            path.unlink(missing_ok=True)
            for parent in path.parents:
                if parent == self.root:
                    break
                try:
                    parent.rmdir()
                except OSError:
                    break  # not empty (or already gone): the directories above are kept

    def list(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, walking only the directory the prefix names."""
        folder = prefix.rpartition("/")[0]
        if folder:
            try:
                check_key(folder)
            except ValidationError:
                return []  # no key can start with it
        base = self.root / folder
        if not base.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in base.rglob("*")
                if p.is_file() and not p.name.startswith(TMP_PREFIX))
        return sorted(k for k in keys if k.startswith(prefix))

    def url(self, key: str, expires_in: int) -> str | None:
        return None

    def upload_url(self, key: str, expires_in: int) -> str | None:
        return None

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def check(self) -> None:
        """Raise ServiceUnavailable unless a file can be written in the directory; each
        check writes one of its own, so checks made at once never see each other's."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=f"{TMP_PREFIX}health-"
                                             ) as probe:
                probe.write(b"ok")
                probe.flush()
        except OSError as exc:
            raise ServiceUnavailable("the blob store is unavailable",
                                     detail=f"blob directory {self.root} is not writable: "
                                            f"{exc}") from exc
