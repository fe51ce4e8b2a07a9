"""Container jobs over HTTP on the embedded default with a Docker engine: the allow-list,
what a job may ask for, and how a run that outgrows its memory ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.containers import engine, probe_image
from tests.e2e.helpers import SECRET_KEY, User, assert_envelope, register_and_login, wait_for_run
from tests.e2e.servers import running_server


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[User]:
    engine()
    image = probe_image()
    directory = tmp_path_factory.mktemp("container-jobs")
    with running_server(directory, SECRET_KEY=SECRET_KEY, CONTAINER_ENGINE="docker",
                        ALLOWED_IMAGES=f"sim:*,{image}", CONTAINER_MAX_MEMORY_MB="512") as url:
        yield register_and_login(url, "containers")


def test_a_job_s_memory_is_what_it_asked_and_running_out_of_it_is_said(user: User) -> None:
    answer = user.post("/api/v1/jobs", json={
        "container_image": probe_image(), "resources": {"memory_mb": 64},
        "params": {"action": "allocate", "megabytes": 200}})
    assert answer.status_code == 201, answer.text
    run = wait_for_run(user, answer.json()["jobs"][0])
    assert run["status"] == "failed"
    assert run["error"] == "out of memory (limit 64 MiB)"
    assert run["resources"] == {"memory_mb": 64, "cpus": 1.0, "pids": 128}


def test_a_job_without_resources_gets_the_defaults(user: User) -> None:
    answer = user.post("/api/v1/jobs", json={
        "container_image": probe_image(), "params": {"action": "allocate", "megabytes": 32}})
    run = wait_for_run(user, answer.json()["jobs"][0])
    assert run["status"] == "succeeded", run
    assert run["resources"] == {"memory_mb": 256, "cpus": 1.0, "pids": 128}


def test_more_than_the_maximum_is_refused_at_submission(user: User) -> None:
    body = assert_envelope(user.post("/api/v1/jobs", json={
        "container_image": "sim:local", "resources": {"memory_mb": 1024}}), 400,
        "ResourceLimitExceeded")
    assert "memory_mb may be at most 512" in body["error"]["message"]


def test_an_image_off_the_allow_list_is_refused_at_submission(user: User) -> None:
    body = assert_envelope(user.post("/api/v1/jobs", json={
        "container_image": "python:3.11", "params": {}}), 400)
    assert "ALLOWED_IMAGES" in body["error"]["message"]
    assert "python:3.11" in body["error"]["message"]


def test_resources_of_a_handler_s_run_are_refused(user: User) -> None:
    body = assert_envelope(user.post("/api/v1/jobs", json={
        "simulation_type": "noop", "resources": {"memory_mb": 64}}), 400)
    assert "container runs" in body["error"]["message"]


def test_a_container_run_submitted_again_is_reused_by_the_image_s_digest(user: User) -> None:
    body = {"container_image": "sim:local", "params": {"time_steps": 30, "spatial_steps": 9}}
    first = wait_for_run(user, user.post("/api/v1/jobs", json=body).json()["jobs"][0])
    again = wait_for_run(user, user.post("/api/v1/jobs", json=body).json()["jobs"][0])
    assert (first["status"], first["attempts"], first["reused_from"]) == ("succeeded", 1, None)
    assert (again["status"], again["attempts"], again["reused_from"]) == (
        "succeeded", 0, first["id"])
