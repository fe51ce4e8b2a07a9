"""``/files/<token>``: the blob links simdock issues (:mod:`~simdock_adapters.http.blob_links`)
for stores that pre-sign none, served.

A download streams the blob; an upload is read to a scratch file (up to the
input archive limit) and handed to the core, which checks an input archive before
keeping it. Neither needs any other credential: the link is the permission.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, Response, request, send_file

from simdock.errors import NotFound
from simdock_adapters.http.context import context, platform

COPY_CHUNK = 1 << 20


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
            platform().inputs.receive_upload(transfer.target, path)
        return Response(status=200)

    return bp
