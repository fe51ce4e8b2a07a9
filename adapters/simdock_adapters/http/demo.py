"""``simdock serve --demo``: once the server is up, run one heat1d job through it over HTTP.

What a new user sees first: a user is registered (or logged in), a heat1d
job is submitted with the seed's parameters, followed to the end, and its
outputs and a ready-to-use ``curl`` line are printed while the server keeps
serving.
"""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.error
import urllib.request
import zipfile
from typing import Any

DEMO_USER = {"email": "demo@simdock.local", "password": "simdock-demo-password",
             "full_name": "simdock demo"}
HEAT1D = {"simulation_type": "heat1d",
          "params": {"length": 1.0, "time_steps": 200, "diffusivity": 0.01}}


def call(base: str, method: str, path: str, body: dict[str, Any] | None = None,
         token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def outputs(base: str, run_id: str, token: str) -> list[str]:
    """The files of a finished run, as the API hands them out (wherever blobs are kept)."""
    request = urllib.request.Request(f"{base}/api/v1/jobs/{run_id}/result")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
    except (urllib.error.URLError, zipfile.BadZipFile):
        return []
    return sorted(name.removeprefix("artifacts/") for name in archive.namelist()
                  if name.startswith("artifacts/"))


def run_demo(base: str) -> None:
    call(base, "POST", "/api/v1/auth/register", DEMO_USER)
    status, login = call(base, "POST", "/api/v1/auth/login",
                         {"email": DEMO_USER["email"], "password": DEMO_USER["password"]})
    if status != 200:
        print(f"demo: could not log in: {login}", flush=True)
        return
    token = login["access_token"]
    status, created = call(base, "POST", "/api/v1/jobs", HEAT1D, token)
    if status != 201:
        print(f"demo: submission refused: {created}", flush=True)
        return
    run_id = created["jobs"][0]
    print(f"demo: submitted heat1d over HTTP as run {run_id}", flush=True)
    run: dict[str, Any] = {}
    for _ in range(600):
        _, run = call(base, "GET", f"/api/v1/jobs/{run_id}", token=token)
        if run.get("status") in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.2)
    print(f"demo: run {run_id} {run.get('status')} "
          f"(error: {run.get('error')})" if run.get("error") else
          f"demo: run {run_id} {run.get('status')} in {run.get('duration_seconds', 0):.2f} s",
          flush=True)
    names = outputs(base, run_id, token)
    if names:
        print(f"demo: outputs (GET /api/v1/jobs/{run_id}/result, a zip): {', '.join(names)}",
              flush=True)
    print(f"demo: try  curl -H 'Authorization: Bearer {token}' {base}/api/v1/jobs/{run_id}\n"
          f"demo: dashboard at {base}/ui/  (sign in as {DEMO_USER['email']}, password "
          f"{DEMO_USER['password']})\n"
          f"demo: docs at {base}/api/v1/docs/  (Ctrl-C stops the server)", flush=True)


def start_demo(base: str) -> None:
    """Run the demo in the background once ``base`` answers."""

    def wait_then_run() -> None:
        for _ in range(300):
            try:
                if call(base, "GET", "/live")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        run_demo(base)

    threading.Thread(target=wait_then_run, name="simdock-demo", daemon=True).start()
