"""Pre-signed links to blobs, served by simdock for stores that have none (a local directory).

A store that pre-signs (S3) gives its own links; otherwise a link points at
``/files/<token>``, whose opaque token says which blob, which method and until
when. A download streams the blob; an upload is read to a scratch file (up to the
input archive limit) and handed to the core, which checks an input archive before
keeping it. Neither needs any other credential: the link is the permission.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, request, send_file

from simdock.errors import NotFound, UnauthorizedOperation
from simdock.platform import Platform
from simdock.usecases.inputs import UploadTarget, receive_upload
from simdock_adapters.http.context import context, link_base, platform
from simdock_adapters.http.sealed import SealedTokens

KEY_PURPOSE = b"simdock blob links v1"
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Transfer:
    """What a valid link allows: ``method`` on blob ``key`` until ``expires_at``; an upload
    link also says where its bytes go (the core's target)."""

    method: str
    key: str
    expires_at: datetime
    target: UploadTarget | None = None


class BlobLinks:
    """Issues and opens blob link tokens; they live ``lifetime_seconds``."""

    def __init__(self, secret_key: str, lifetime_seconds: int) -> None:
        self._tokens = SealedTokens(secret_key, KEY_PURPOSE)
        self.lifetime_seconds = lifetime_seconds

    def download_url(self, blobs_platform: Platform, key: str, now: datetime) -> str:
        """A link to download blob ``key``: the store's own, else one of ours."""
        url = blobs_platform.blobs.url(key, self.lifetime_seconds)
        if url is not None:
            return url
        return self._url(["GET", key, self._expiry(now)])

    def upload_url(self, blobs_platform: Platform, target: UploadTarget, now: datetime) -> str:
        """A link to upload to ``target`` with PUT: the store's own, else one of ours."""
        url = blobs_platform.blobs.upload_url(target.key, self.lifetime_seconds)
        if url is not None:
            return url
        return self._url(["PUT", target.key, self._expiry(now), target.job_id,
                          target.owner_id, target.archive])

    def open(self, token: str, method: str, now: datetime) -> Transfer:
        """What a token allows; NotFound if it is not one of ours (or not for ``method``),
        UnauthorizedOperation once it has expired."""
        values = self._tokens.open(token) or []
        try:
            kind, key, expires = values[:3]
            transfer = Transfer(str(kind), str(key), datetime.fromtimestamp(int(expires), UTC))
            if kind == "PUT":
                job_id, owner_id, archive = values[3:]
                transfer = Transfer(kind, transfer.key, transfer.expires_at, UploadTarget(
                    transfer.key, str(job_id), str(owner_id), bool(archive)))
        except (ValueError, TypeError, OverflowError, OSError):
            raise NotFound("file", token[:16]) from None
        if transfer.method != method:
            raise NotFound("file", token[:16])
        if now >= transfer.expires_at:
            raise UnauthorizedOperation("this link has expired; ask for a new one")
        return transfer

    def _expiry(self, now: datetime) -> int:
        return int(now.timestamp()) + self.lifetime_seconds

    def _url(self, values: list[object]) -> str:
        return f"{link_base()}/files/{self._tokens.seal(values)}"


def blueprint() -> Blueprint:
    """``GET`` and ``PUT /files/<token>``."""
    bp = Blueprint("files", __name__)

    @bp.get("/files/<token>")
    def download(token: str) -> Response:
        transfer = context().blob_links.open(token, "GET", platform().clock.now())
        blobs = platform().blobs
        path = blobs.local_path(transfer.key)
        if path is not None:
            if not path.is_file():
                raise NotFound("file", token[:16])
            return send_file(path, mimetype="application/octet-stream", as_attachment=True,
                             download_name=Path(transfer.key).name)
        return Response(blobs.open(transfer.key), mimetype="application/octet-stream")

    @bp.put("/files/<token>")
    def upload(token: str) -> Response:
        transfer = context().blob_links.open(token, "PUT", platform().clock.now())
        assert transfer.target is not None
        request.max_content_length = platform().limits.archives.max_bytes
        with tempfile.TemporaryDirectory(prefix="simdock-upload-") as scratch:
            path = Path(scratch) / "upload"
            with path.open("wb") as out:
                shutil.copyfileobj(request.stream, out, COPY_CHUNK)
            receive_upload(transfer.target, path, platform())
        return Response(status=200)

    return bp
