"""The platform on an S3 bucket: runs, artifacts, results and reports go to S3 and come
back over the API, nothing read from a local directory.

Against rclone's S3 server, which checks the signature and expiry of the
pre-signed report link the API answers with.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import requests

from simdock_adapters.http import create_app
from simdock_adapters.settings import Settings
from tests.integration.signing_in import signed_in
from tests.s3 import ACCESS_KEY, SECRET_KEY, new_bucket, s3_client, s3_endpoint


def test_a_run_and_its_report_live_in_the_bucket(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    endpoint = s3_endpoint("rclone")
    bucket = new_bucket(endpoint)
    artifacts = tmp_path / "not-used"
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/simdock.db",
                              artifacts_path=str(artifacts), dispatch="inline",
                              s3_bucket_name=bucket, s3_endpoint_url=endpoint,
                              s3_prefix="prod"))
    client = app.test_client()
    assert client.get("/health").get_json()["services"]["blob_store"] == "healthy"
    headers = signed_in(client, "s3@example.com")

    submitted = client.post("/api/v1/jobs", headers=headers, json={
        "simulation_type": "heat1d",
        "params": {"spatial_steps": 501, "time_steps": 100, "end_time": 1e-6}})
    assert submitted.status_code == 201, submitted.get_json()
    run_id = submitted.get_json()["jobs"][0]
    assert client.get(f"/api/v1/jobs/{run_id}", headers=headers).get_json()["status"] \
        == "succeeded"
    archive = client.get(f"/api/v1/jobs/{run_id}/result", headers=headers)
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert any(name.endswith("temperature_field.npy") for name in names), names

    keys = [o["Key"] for o in s3_client(endpoint).list_objects_v2(
        Bucket=bucket, Prefix="prod/").get("Contents", [])]
    assert any(k.startswith(f"prod/runs/{run_id}/artifacts/") for k in keys), keys
    assert not artifacts.exists()

    simulation_id = submitted.get_json()["simulation_id"]
    report = client.post("/api/v1/reports", headers=headers, json={
        "simulation_job_ids": [simulation_id], "report_type": "summary",
        "output_format": "json"})
    assert report.status_code in (200, 201, 202), report.get_json()
    shown = client.get(f"/api/v1/reports/{report.get_json()['id']}", headers=headers)
    link = shown.get_json()["download_url"]
    assert link.startswith(endpoint)
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200 and fetched.json()
    assert requests.get(link.replace("Signature=", "Signature=0"), timeout=10).status_code \
        == 403
