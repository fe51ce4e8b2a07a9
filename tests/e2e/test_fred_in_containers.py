"""FRED from an image: HANDLER_ISOLATION=container with HANDLER_IMAGE an image that holds
FRED, and FRED_BINARY its path there. A FRED run of the Epistemix API executes that
program in a container of the image, isolated as handler containers are."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.containers import built_image
from tests.e2e.fred_jobs import run_fred_job
from tests.e2e.helpers import SECRET_KEY, User, register_and_login
from tests.e2e.servers import running_server


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[User]:
    image = built_image("fred")
    directory = tmp_path_factory.mktemp("fred-in-containers")
    with running_server(directory, SECRET_KEY=SECRET_KEY, CONTAINER_ENGINE="docker",
                        HANDLER_ISOLATION="container", HANDLER_IMAGE=image,
                        FRED_BINARY="/opt/fred/bin/FRED") as url:
        yield register_and_login(url, "fred-image")


def test_the_image_s_fred_runs_with_the_job_s_inputs_and_the_request_s_args(
        user: User) -> None:
    assert not Path("/opt/fred/bin/FRED").exists()  # only the image has it
    run, files = run_fred_job(user, "transmissibility = 0.5\n", [
        {"flag": "-p", "value": "main.fred"}, {"flag": "-s", "value": "3"}])
    assert run["status"] == "DONE", files.get("work/outputs/logs.txt")
    assert files["work/outputs/program-seen.fred"] == b"transmissibility = 0.5\n"
    args = files["work/outputs/args.txt"].decode().split()
    assert args[:5] == ["-p", "main.fred", "-s", "3", "-d"]
    assert files["work/outputs/DAILY/Popsize.txt"] == b"0 42\n"
