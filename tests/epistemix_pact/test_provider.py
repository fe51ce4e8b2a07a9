"""The provider side: pact-python's verifier checks simdock's Flask app against every pact
in ``pacts/``.

The app runs on PostgreSQL and the local blob store, with runs left queued (nothing
executes them: each provider state puts its runs in the status it names). Before
each interaction the database is emptied and its state set up: the contract's user
and API token, then the job (with its ``inputs.zip``) and run with the contract's ids.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from pact import Verifier
from werkzeug.serving import make_server

from simdock.domain import ApiToken, Payload, RunStatus
from simdock.platform import Platform
from simdock.usecases.auth import token_hash
from simdock.usecases.inputs import UploadKind
from simdock.usecases.open_jobs import AddRuns, RegisterJob
from simdock_adapters.http.app import create_app
from simdock_adapters.http.epistemix.shapes import CLIENT_VERSION
from simdock_adapters.settings import load_settings
from simdock_adapters.sql import make_engine
from tests.databases import migrated_postgres, truncate_all
from tests.e2e.helpers import SECRET_KEY
from tests.epistemix_pact.interactions import HEADERS, RETRY, RETRY_BODY, TOKEN

PACTS = Path(__file__).resolve().parents[2] / "pacts"
REQUEST = {"workingDir": "/workspaces/fred_simulations", "size": "hot", "fredVersion": "latest",
           "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
           "fredArgs": [{"flag": "-p", "value": "main.fred"}, {"flag": "-s", "value": "1"}],
           "fredFiles": ["/workspaces/fred_simulations/main.fred"]}
TAGS = {123: ["info_job"], 124: ["stop_job"]}
#: Every description but RETRY's (the verifier's regular expressions cannot look ahead).
EXCEPT_RETRY = r"^a request (for|to (register|run|upload|stop|delete)) "


@dataclass
class Provider:
    url: str
    platform: Platform
    engine: sa.Engine
    blobs: Path
    tmp: Path

    def reset(self) -> None:
        """Nothing stored, and nothing remembered of who presented which token."""
        truncate_all(self.engine)
        shutil.rmtree(self.blobs, ignore_errors=True)
        self.blobs.mkdir()

    def user(self) -> str:
        """The contract's user, holding the contract's API token."""
        user = self.platform.users.ensure_user("pact@example.com")
        now = self.platform.clock.now()
        with self.platform.uow() as uow:
            uow.tokens.add(ApiToken("tok-pact", user.id, "pact", token_hash(TOKEN),
                                    TOKEN[:8], now))
            uow.commit()
        return user.id

    def job(self, owner: str, number: int) -> str:
        job = self.platform.open_jobs.register_job(
            RegisterJob(owner_id=owner, simulation_type="fred",
                                       tags=TAGS.get(number, ["info_job"])))
        archive = self.tmp / "inputs.zip"
        with zipfile.ZipFile(archive, "w") as out:
            out.writestr("main.fred", "transmissibility = 0.3\n")
        self.platform.inputs.receive_upload(
            self.platform.inputs.upload_target(job.id, owner, UploadKind.INPUT), archive)
        self.renumber("jobs", job.id, number)
        return job.id

    def run(self, owner: str, job_number: int, number: int, status: str) -> None:
        job_id = self.job(owner, job_number)
        (run,) = self.platform.open_jobs.add_runs(AddRuns(job=job_id, owner_id=owner,
                                  parameters=[{**REQUEST, "jobId": job_number}],
                                  metadata={CLIENT_VERSION: "1.2.2"}))
        now = self.platform.clock.now()
        if status != "QUEUED":
            run.start(now, "pact-worker", now + timedelta(hours=1))
            if status == "DONE":
                run.succeed(Payload(inline={"return_code": 0}), now)
            elif status == "ERROR":
                run.fail("FRED exited with status 1", now)
            with self.platform.uow() as uow:
                uow.runs.update(run)
                uow.commit()
        self.renumber("runs", run.id, number)

    def renumber(self, table: str, entity_id: str, number: int) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.text(f"UPDATE {table} SET number = :n WHERE id = :id"),
                               {"n": number, "id": entity_id})

    def set_up(self, state: str, parameters: dict[str, Any] | None) -> None:
        self.reset()
        owner = self.user()
        parameters = parameters or {}
        if state == "a job":
            self.job(owner, int(parameters["job_id"]))
        elif state == "a run":
            self.run(owner, int(parameters["job_id"]), int(parameters["run_id"]),
                     str(parameters["status"]))


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    tmp = tmp_path_factory.mktemp("pact-provider")
    database = migrated_postgres("pact_provider")
    settings = load_settings(database_url=database, artifacts_path=str(tmp / "blobs"),
                             dispatch="database", secret_key=SECRET_KEY, auth_cache_seconds=0,
                             log_level="WARNING")
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    engine = make_engine(database)
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}",
                       app.extensions["simdock"].platform, engine, tmp / "blobs", tmp)
    finally:
        server.shutdown()
        engine.dispose()
        app.extensions["simdock"].platform.close()


def test_simdock_honours_every_pact_in_pacts(provider: Provider) -> None:
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    assert sorted(PACTS.glob("*.json")), "no pact to verify"
    descriptions = [i["description"] for pact in PACTS.glob("*.json")
                    for i in json.loads(pact.read_text())["interactions"]]
    skipped = [d for d in descriptions if not re.match(EXCEPT_RETRY, d)]
    assert skipped == [RETRY], f"interactions the filter leaves out: {skipped}"
    errors: list[str] = []

    def state_handler(state: str, action: str, parameters: dict[str, Any] | None) -> None:
        if action == "setup":
            try:
                provider.set_up(state, parameters)
            except Exception as exc:  # the verifier retries a failing handler for minutes
                errors.append(f"{state} {parameters}: {exc!r}")

    verifier = (Verifier("epistemix", host="127.0.0.1")
                .set_coloured_output(enabled=False)
                .add_transport(url=provider.url))
    for pact in sorted(PACTS.glob("*.json")):
        verifier = verifier.add_source(pact)
    # Every interaction but the retry's (its body is checked by the test below).
    verifier = (verifier.filter(description=EXCEPT_RETRY)
                .state_handler(state_handler, teardown=True))
    try:
        verifier.verify()
    except RuntimeError:
        pytest.fail(verifier.output(strip_ansi=True)[-6000:])
    assert not errors, errors
    assert "a request to run job 123" in verifier.output(strip_ansi=True)


def test_the_retry_interaction_with_the_body_the_client_sends(provider: Provider) -> None:
    """Pact cannot hold this interaction's body (a form under a JSON content type); here
    it is sent as the client sends it, and the answer checked against the contract's."""
    provider.set_up("a run", {"job_id": 123, "run_id": 978, "status": "ERROR"})
    answer = requests.post(f"{provider.url}/runs/retry", data=RETRY_BODY, timeout=30, headers={
        **HEADERS, "Offline-Token": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body["status"], str) and body["runRequestIds"] == [978]
    with provider.platform.uow() as uow:
        run = uow.runs.get_by_number(978)
    assert run is not None and run.status is RunStatus.QUEUED
