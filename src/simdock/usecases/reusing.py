"""Never computing the same run twice: reusing a user's earlier runs, and keeping what
they refer to.

A new run whose identity (:mod:`simdock.domain.run_identity`) an earlier succeeded run of
the same user has is completed at once with that run's result and artifacts: the same
blobs, referenced, not copied. Deleting the earlier run's job keeps the blobs while any
run refers to them (:func:`removable_runs`); the last referring run's deletion removes
them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from simdock import blob_keys
from simdock.domain import Artifact, Run
from simdock.domain.run_identity import Reusable
from simdock.repositories import UnitOfWork


def reuse_runs(uow: UnitOfWork, owner_id: str, runs: Sequence[Run], now: datetime
               ) -> list[tuple[Run, Reusable]]:
    """Complete at once each of ``runs`` that an earlier succeeded run of ``owner_id`` has
    the identity of (only the same user's runs are ever reused); returns each with the run
    it reuses."""
    sources = uow.runs.reusable(owner_id, {run.identity for run in runs if run.identity})
    pairs = [(run, sources[run.identity]) for run in runs
             if run.identity is not None and run.identity in sources]
    for run, source in pairs:
        run.reuse(source, now)
    return pairs


def reused_artifacts(uow: UnitOfWork, pairs: Sequence[tuple[Run, Reusable]]
                     ) -> list[Artifact]:
    """The artifacts of reused runs: their sources' final attempt's, the same blobs
    (referenced, not copied: deleting the source's job keeps them while a run refers to
    them)."""
    found = uow.artifacts.for_runs({source.id for _, source in pairs})
    return [replace(artifact, run_id=run.id) for run, source in pairs
            for artifact in found.get(source.id, ())
            if source.reused_from is not None  # its rows are already the final attempt's
            or artifact.blob_key.startswith(blob_keys.attempt_artifacts(source.id,
                                                                        source.attempts))]


def removable_runs(uow: UnitOfWork, deleted: Collection[Run]) -> set[str]:
    """The runs whose blobs may go once ``deleted`` (just deleted in ``uow``) are: those of
    them, and the runs they reused that are gone too, that no stored run still is or
    reuses."""
    candidates = {run.id for run in deleted} | {run.reused_from for run in deleted
                                                if run.reused_from is not None}
    return candidates - uow.runs.referenced(candidates)
