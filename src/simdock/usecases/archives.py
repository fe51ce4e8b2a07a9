"""A run's results archive: one zip of what its last attempt produced.

Built once per attempt, on first demand, from the artifacts that attempt kept
(a failed attempt's too: its logs say why), and kept in the blob store so that a
client can be sent straight to it. Entries keep the artifacts' names, so a
handler decides the layout (FRED's runs name theirs ``work/outputs/...``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from simdock.domain import Run, RunStatus
from simdock.domain.archives import pack_archive
from simdock.platform import Platform
from simdock.usecases.access import load_job
from simdock.usecases.context import attempt_prefix

#: The statuses whose runs have a results archive: they ran to an end of their own.
ARCHIVED_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED})


def results_archives(job: str | int, owner_id: str | None, platform: Platform
                     ) -> list[tuple[Run, str]]:
    """Every run of the job (by id or number) that succeeded or failed, in index order,
    with the blob key of its results archive (built now where it was not yet)."""
    with platform.uow() as uow:
        found = load_job(uow, job, owner_id)
        runs = [run for run in uow.runs.for_job(found.id) if run.status in ARCHIVED_STATUSES]
    return [(run, results_archive(run, platform)) for run in runs]


def results_archive(run: Run, platform: Platform) -> str:
    """The blob key of the archive of ``run``'s last attempt, building it if needed."""
    key = f"runs/{run.id}/results/attempt-{max(run.attempts, 1)}.zip"
    if platform.blobs.exists(key):
        return key
    with platform.uow() as uow:
        artifacts = uow.artifacts.list(run.id)
    prefix = attempt_prefix(run.id, run.attempts)
    kept = sorted((a for a in artifacts if a.blob_key.startswith(prefix)), key=lambda a: a.name)
    with tempfile.TemporaryDirectory(prefix="simdock-archive-") as scratch:
        path = Path(scratch) / "results.zip"
        with path.open("wb") as out:
            pack_archive(((a.name, platform.blobs.open(a.blob_key)) for a in kept), out)
        platform.blobs.put_file(key, path, "application/zip")
    return key
