"""Executing a run: claim it, execute it, keep what it produced, finish it."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from simdock import codec
from simdock.domain import Payload, Run, RunStatus
from simdock.errors import ConcurrencyConflict, ExecutionError, RunCancelled, SimdockError
from simdock.platform import Platform
from simdock.ports import MAX_PAGE_SIZE, ExecutionTask, Ordering, PageRequest, RunQuery
from simdock.usecases.context import ExecutionContext

log = logging.getLogger(__name__)


def execute_run(run_id: str, platform: Platform) -> RunStatus | None:
    """Execute a queued run once; returns its final status, or None if not ours.

    Safe to call more than once for the same run (redelivery): only the
    caller that claims the run executes it. A run cancelled while executing
    stays cancelled whatever the handler returns.
    """
    with platform.uow() as uow:
        run = uow.runs.claim(run_id, platform.worker_name, platform.clock.now())
        uow.commit()
    return execute_claimed(run, platform) if run is not None else None


def redispatch_queued(platform: Platform, limit: int = 100_000) -> int:
    """Dispatch again every queued run (oldest first, up to ``limit``); returns how many.

    For a dispatcher that lives in one process: runs it had queued when that
    process stopped are picked up by the next one. Dispatching a run twice is
    harmless, as only one claim can win.
    """
    run_ids: list[str] = []
    query = RunQuery(statuses=frozenset({RunStatus.QUEUED}), order=Ordering("created_at", False),
                     page=PageRequest(1, MAX_PAGE_SIZE))
    with platform.uow() as uow:
        while len(run_ids) < limit:
            page = uow.runs.list(query)
            run_ids.extend(r.id for r in page.items)
            if query.page.page >= page.total_pages:
                break
            query = dataclasses.replace(query, page=PageRequest(query.page.page + 1,
                                                                MAX_PAGE_SIZE))
    run_ids = run_ids[:limit]
    if run_ids:
        platform.dispatcher.dispatch_runs(run_ids)
    return len(run_ids)


def execute_next(platform: Platform) -> tuple[str, RunStatus | None] | None:
    """Claim the oldest queued run and execute it; None when nothing is queued.

    This is how workers that poll the database (rather than a broker) get work.
    """
    with platform.uow() as uow:
        run = uow.runs.claim_next(platform.worker_name, platform.clock.now())
        uow.commit()
    if run is None:
        return None
    return run.id, execute_claimed(run, platform)


def execute_claimed(run: Run, platform: Platform) -> RunStatus | None:
    """Execute a run this worker has just claimed, and record its outcome."""
    context = ExecutionContext(run.id, run.job_id, platform)
    platform.track(run.id, context)
    result: Payload | None = None
    error: str | None = None
    try:
        parameters = platform.payloads.load(run.parameters)
        task = ExecutionTask(
            run_id=run.id,
            job_id=run.job_id,
            simulation_type=run.simulation_type,
            parameters=parameters,
            attempt=run.attempts,
            timeout_seconds=run.timeout_seconds or platform.limits.default_timeout_seconds,
        )
        value = platform.executor.execute(task, context)
        result = _store_result(run.id, value, platform)
        context.collect_workdir()
    except RunCancelled as exc:
        error = exc.message
    except SimdockError as exc:
        error = exc.message
    except Exception as exc:  # a failing run must never take the worker down
        log.exception("run %s failed outside its handler", run.id)
        error = f"{type(exc).__name__}: {exc}"
    finally:
        platform.track(run.id, None)
        context.discard_workdir()
        try:
            context.flush()
        except Exception:  # what could not be written must not keep the run running
            log.exception("could not write the last logs and metrics of run %s", run.id)
    return _finish(run.id, result, error, platform)


def _store_result(run_id: str, value: Any, platform: Platform) -> Payload:
    try:
        encoded = codec.encode(value)
    except SimdockError as exc:
        raise ExecutionError(f"the handler returned a result that cannot be stored: {exc}") from exc
    return platform.payloads.store(f"runs/{run_id}/result.json", encoded)


def _finish(run_id: str, result: Payload | None, error: str | None, platform: Platform
            ) -> RunStatus | None:
    for _ in range(5):
        try:
            with platform.uow() as uow:
                run = uow.runs.get(run_id)
                if run is None:
                    return None
                if run.status is RunStatus.RUNNING:
                    now = platform.clock.now()
                    if error is None and result is not None:
                        run.succeed(result, now)
                    else:
                        run.fail(error or "the run ended without a result", now)
                    uow.runs.update(run)
                    uow.commit()
                elif result is not None and result.blob_key:
                    platform.blobs.delete(result.blob_key)
                return run.status
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict(f"could not record the outcome of run '{run_id}'")
