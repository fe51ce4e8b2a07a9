"""Where everything simdock keeps in the blob store lives: the key layout, in one place.

::

    jobs/<job>/spec.json                      a sweep's specification (when too large inline)
    jobs/<job>/config/job.json                an open job's configuration file
    jobs/<job>/config/runs/<run>.json         a run's configuration file
    jobs/<job>/inputs/inputs.zip              an open job's input files
    runs/<run>/parameters.json                a run's parameters (when too large inline)
    runs/<run>/result.json                    its result; result-<n>.json for attempt n > 1
    runs/<run>/artifacts/<name>               its first attempt's artifacts
    runs/<run>/attempt-<n>/artifacts/<name>   attempt n's (n > 1)
    runs/<run>/results/attempt-<n>.zip        the results archive of attempt n
    reports/<report>/<file>                   a report's document

Deleting a job removes everything under its ``jobs/<job>/`` and its runs'
``runs/<run>/`` (:func:`job_prefixes`).
"""

from __future__ import annotations

from collections.abc import Iterable

#: The one file name an open job's inputs are kept under.
INPUT_ARCHIVE = "inputs.zip"


def sweep_spec(job_id: str) -> str:
    return f"jobs/{job_id}/spec.json"


def job_config(job_id: str) -> str:
    return f"jobs/{job_id}/config/job.json"


def run_config(job_id: str, run_id: str) -> str:
    return f"jobs/{job_id}/config/runs/{run_id}.json"


def job_inputs(job_id: str) -> str:
    return f"jobs/{job_id}/inputs/{INPUT_ARCHIVE}"


def run_parameters(run_id: str) -> str:
    return f"runs/{run_id}/parameters.json"


def run_result(run_id: str, attempt: int) -> str:
    """Each attempt's result under a key of its own (the first keeps the plain name)."""
    return f"runs/{run_id}/result.json" if attempt <= 1 else f"runs/{run_id}/result-{attempt}.json"


def attempt_artifacts(run_id: str, attempt: int) -> str:
    """The key prefix of one attempt's artifacts."""
    return (f"runs/{run_id}/artifacts/" if attempt <= 1
            else f"runs/{run_id}/attempt-{attempt}/artifacts/")


def artifact(run_id: str, attempt: int, name: str) -> str:
    """Where an attempt keeps an artifact: each attempt under keys of its own."""
    return f"{attempt_artifacts(run_id, attempt)}{name}"


def results_archive(run_id: str, attempt: int) -> str:
    return f"runs/{run_id}/results/attempt-{max(attempt, 1)}.zip"


def report_document(report_id: str, filename: str) -> str:
    return f"reports/{report_id}/{filename}"


def job_prefixes(job_id: str, run_ids: Iterable[str]) -> list[str]:
    """Every prefix a job's blobs and its runs' are under."""
    return [f"runs/{run_id}/" for run_id in run_ids] + [f"jobs/{job_id}/"]
