"""A finished run's outputs as one zip archive (seed 001's result download)."""

from __future__ import annotations

import json
import tempfile
import zipfile

from flask import Response, send_file

from simdock import codec
from simdock.platform import Platform

SPOOL_BYTES = 8 * 1024 * 1024


def result_archive(run_id: str, owner_id: str, platform: Platform) -> Response:
    """``artifacts/*``, ``result.json``, ``parameters.json`` and ``logs.txt`` of a succeeded run.

    Refused with Conflict while the run has not finished, and when it failed or was
    cancelled (the error says why; its logs stay readable). Built in a spooled
    temporary file, so large artifacts do not have to fit in memory.
    """
    run = platform.queries.succeeded_run(run_id, owner_id)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for artifact in platform.queries.run_artifacts(run_id, owner_id):
            with archive.open(f"artifacts/{artifact.name}", "w", force_zip64=True) as target:
                for chunk in platform.blobs.open(artifact.blob_key):
                    target.write(chunk)
        result = codec.plain(platform.queries.run_result(run_id, owner_id))
        archive.writestr("result.json", json.dumps(result, indent=2))
        archive.writestr("parameters.json",
                         json.dumps(platform.queries.run_parameters(run), indent=2))
        logs = platform.queries.run_logs(run_id, owner_id)
        archive.writestr("logs.txt", "".join(
            f"{line.at.isoformat()} [{line.stream}] {line.message}\n" for line in logs))
    spool.seek(0)
    return send_file(spool, mimetype="application/zip", as_attachment=True,
                     download_name=f"{run_id}.zip")
