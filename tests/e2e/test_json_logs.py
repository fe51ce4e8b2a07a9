"""The long-lived commands log JSON lines from every package of the project.

``simdock worker`` says, as a JSON line (from ``simdock_adapters.dispatch.threads``),
that its database is away (once, not once per poll); importing simdock or
connecting to a platform configures no logging at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import simdock
from tests.databases import PG_HOST, PG_PORT, PG_USER, migrated_postgres
from tests.e2e.servers import SIMDOCK
from tests.proxy import TcpProxy

URL_PASSWORD = "url-password-never-logged"


def test_a_worker_logs_its_failures_during_an_outage_as_json_lines(tmp_path: Path) -> None:
    url = migrated_postgres("json_logs")
    artifacts = str(tmp_path / "artifacts")
    stderr = tmp_path / "worker.err"
    with TcpProxy((PG_HOST, PG_PORT)) as proxy:
        proxied = url.replace(f"{PG_USER}@{PG_HOST}:{PG_PORT}/",
                              f"{PG_USER}:{URL_PASSWORD}@127.0.0.1:{proxy.port}/")
        env = {**os.environ, "DATABASE_URL": proxied, "ARTIFACTS_PATH": artifacts,
               "LOG_LEVEL": "info"}
        with stderr.open("w") as errors:
            worker = subprocess.Popen([str(SIMDOCK), "worker", "--poll", "0.1"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=errors)
        try:
            with simdock.connect(url, dispatch="database", artifacts_path=artifacts) as dock:
                job = dock.submit("noop", {"n": 1})
                job.wait(timeout=60)  # the worker is past its start and polling
                assert job.status == "succeeded"
            proxy.stop()
            deadline = time.monotonic() + 30
            while "cannot reach the store" not in stderr.read_text():
                assert worker.poll() is None, stderr.read_text()
                assert time.monotonic() < deadline, stderr.read_text()
                time.sleep(0.1)
        finally:
            worker.terminate()
            worker.wait(15)

    lines = [line for line in stderr.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    failures = [e for e in entries if e["logger"] == "simdock_adapters.dispatch.threads"]
    assert failures and {f["level"] for f in failures} == {"warning"}
    assert all("cannot reach the store" in f["message"] for f in failures)
    assert len(failures) <= 2  # runs and reports workers, once each for the outage
    assert URL_PASSWORD not in stderr.read_text()


CHECK_LOGGING = """
import logging, sys
import simdock
from simdock_adapters.logs import PROJECT_LOGGERS, configure_logging

with simdock.connect("memory://", artifacts_path=sys.argv[1]) as dock:
    dock.submit("noop", {}).wait()
untouched = [logging.getLogger(n) for n in PROJECT_LOGGERS]
assert not any(l.handlers for l in untouched) and all(l.propagate for l in untouched)

host = logging.StreamHandler(sys.stdout)
logging.getLogger("simdock").addHandler(host)
configure_logging("info")
configure_logging("info")
assert logging.getLogger("simdock").handlers == [host]
assert all(len(logging.getLogger(n).handlers) == 1 for n in PROJECT_LOGGERS)
logging.getLogger("simdock_sim.heat1d").warning("from %s", "a handler")
"""


def test_a_library_import_configures_no_logging_and_a_host_keeps_its_own(tmp_path: Path
                                                                          ) -> None:
    out = subprocess.run([sys.executable, "-c", CHECK_LOGGING, str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stderr) == {"time": json.loads(out.stderr)["time"], "level": "warning",
                                      "logger": "simdock_sim.heat1d", "message": "from a handler"}
