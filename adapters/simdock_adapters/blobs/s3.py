"""A blob store in an S3 bucket (AWS, MinIO, or any S3-compatible service).

Keys live under an optional prefix in one bucket. Files go up and come down in
parts (boto3's managed transfers), so memory stays flat whatever their size;
``url`` gives pre-signed GET links that expire. Credentials come from boto3's
usual places (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an
instance role).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from simdock.errors import NotFound, ServiceUnavailable
from simdock_adapters.blobs.keys import check_key

CHUNK = 1024 * 1024
#: Files larger than this go up in parts of this size.
PART = 8 * 1024 * 1024
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3BlobStore:
    """Each key is an object ``prefix + key`` in ``bucket``."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1",
            config=Config(signature_version="s3v4", retries={"max_attempts": 3},
                          s3={"addressing_style": "path" if endpoint_url else "auto"}))
        self.transfers = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART,
                                        max_concurrency=4)

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream"
            ) -> None:
        target = self._key(key)
        with _translated(key):
            self.client.put_object(Bucket=self.bucket, Key=target, Body=data,
                                   ContentType=content_type)

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream"
                 ) -> int:
        target = self._key(key)
        with _translated(key):
            self.client.upload_file(str(path), self.bucket, target,
                                    ExtraArgs={"ContentType": content_type},
                                    Config=self.transfers)
        return path.stat().st_size

    def put_stream(self, key: str, chunks: Iterable[bytes],
                   content_type: str = "application/octet-stream") -> int:
        """Stream the chunks up in parts (a multipart upload for large ones); a failure part
        way aborts the upload, so nothing is stored."""
        target = self._key(key)
        source = _ChunkReader(chunks)
        with _translated(key):
            self.client.upload_fileobj(source, self.bucket, target,
                                       ExtraArgs={"ContentType": content_type},
                                       Config=self.transfers)
        return source.size

    def get(self, key: str) -> bytes:
        target = self._key(key)
        with _translated(key):
            body = self.client.get_object(Bucket=self.bucket, Key=target)["Body"]
            return bytes(body.read())

    def open(self, key: str) -> Iterator[bytes]:
        target = self._key(key)
        with _translated(key):
            body = self.client.get_object(Bucket=self.bucket, Key=target)["Body"]
        return _chunks(body)

    def download(self, key: str, path: Path) -> None:
        """Write the blob to ``path`` in parts (memory stays flat)."""
        target = self._key(key)
        with _translated(key):
            self.client.download_file(self.bucket, target, str(path), Config=self.transfers)

    def exists(self, key: str) -> bool:
        target = self._key(key)
        try:
            with _translated(key):
                self.client.head_object(Bucket=self.bucket, Key=target)
            return True
        except NotFound:
            return False

    def delete(self, key: str) -> None:
        target = self._key(key)
        with _translated(key):
            self.client.delete_object(Bucket=self.bucket, Key=target)

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix)
        with _translated(prefix):
            for page in pages:
                keys.extend(item["Key"][len(self.prefix):] for item in page.get("Contents", []))
        return sorted(keys)

    def url(self, key: str, expires_in: int) -> str | None:
        """A pre-signed GET URL valid for ``expires_in`` seconds."""
        return str(self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=int(expires_in)))

    def upload_url(self, key: str, expires_in: int) -> str | None:
        """A pre-signed PUT URL valid for ``expires_in`` seconds."""
        return str(self.client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=int(expires_in)))

    def local_path(self, key: str) -> Path | None:
        return None

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise ServiceUnavailable("the blob store is unavailable",
                                     detail=f"S3 bucket {self.bucket!r}: {exc}") from exc


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterator of chunks (what boto3's uploads read from)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = bytes(next(self._chunks))
            except StopIteration:
                return 0
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self.size += count
        return count


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


class _translated:
    """S3's errors as the port's: a missing object is NotFound, an unreachable service
    ServiceUnavailable."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in MISSING:
                raise NotFound("blob", self.key) from None
            if code.startswith("5") or code in ("InternalError", "ServiceUnavailable",
                                                 "SlowDown"):
                raise ServiceUnavailable("the blob store is unavailable",
                                         detail=f"S3: {exc}") from exc
        elif isinstance(exc, BotoCoreError):
            raise ServiceUnavailable("the blob store is unavailable",
                                     detail=f"S3: {exc}") from exc
