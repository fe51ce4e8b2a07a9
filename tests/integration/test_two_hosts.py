"""Workers on two hosts share one sweep; one host is lost, the other finishes its runs.

Each "host" is a network namespace of this test's own, joined to this one by a
veth pair: its workers reach PostgreSQL, Redis and the S3-compatible server
only through addresses this test sets up (proxies listening on the host's peer
address), never through 127.0.0.1. In the middle of a sweep, the first host is
lost: its link goes down and its processes are killed. Its runs' leases lapse
and the second host's workers take them back: every run ends succeeded, with
one result, its artifacts in the bucket, executed at most twice.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import simdock
from simdock.domain import RunStatus
from tests.brokers import REDIS_URL, queue_prefix, require_redis
from tests.conftest import services_required
from tests.databases import migrated_postgres
from tests.proxy import TcpProxy
from tests.s3 import ACCESS_KEY, SECRET_KEY, new_bucket, s3_endpoint

SIMDOCK = Path(sys.executable).parent / "simdock"
RUNS = 60
HEAT = {"spatial_steps": 2001, "time_steps": 400, "end_time": 1e-6}
#: A service reached through a host's proxy drops a connection whose host stopped
#: answering after this many seconds, as PostgreSQL does (after a minute) with the TCP
#: keepalive and user timeout simdock gives its sessions: a lost worker's transaction,
#: cut in the middle of a message, ends with it and its locks are released.
PEER_TIMEOUT = 3.0


def require_namespaces() -> None:
    reason = None
    if os.geteuid() != 0:
        reason = "network namespaces need root"
    elif shutil.which("ip") is None:
        reason = "iproute2's ip is not installed"
    if reason is not None:
        if services_required():
            pytest.fail(reason)
        pytest.skip(reason)


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@dataclass
class Host:
    """A network namespace linked to this one: it is ``address``, this side ``peer``."""

    name: str
    peer: str
    address: str
    proxies: list[TcpProxy] = field(default_factory=list)

    def reach(self, url: str) -> str:
        """``url`` (of a service on 127.0.0.1) as this host reaches it: through a proxy on
        its peer address."""
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and parts.port is not None
        proxy = TcpProxy(("127.0.0.1", parts.port), host=self.peer, peer_timeout=PEER_TIMEOUT)
        proxy.start()
        self.proxies.append(proxy)
        credentials = f"{parts.username}@" if parts.username else ""
        return urlunsplit(parts._replace(netloc=f"{credentials}{self.peer}:{proxy.port}"))

    def start(self, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.name, str(SIMDOCK), "worker", "--concurrency", "2"],
            env=env, start_new_session=True, stdout=log.open("w"), stderr=subprocess.STDOUT)

    def lose(self) -> None:
        """The host is gone: no more traffic, and every process in it killed."""
        ip("link", "set", f"{self.name}-a", "down")
        pids = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True,
                              text=True, timeout=30).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


@pytest.fixture
def hosts() -> Iterator[list[Host]]:
    require_namespaces()
    tag = uuid.uuid4().hex[:6]
    made: list[Host] = []
    try:
        for number in (1, 2):
            subnet = f"10.213.{number}"
            host = Host(f"sd{tag}{number}", f"{subnet}.1", f"{subnet}.2")
            ip("netns", "add", host.name)
            made.append(host)
            ip("link", "add", f"{host.name}-a", "type", "veth", "peer", "name",
               f"{host.name}-b")
            ip("link", "set", f"{host.name}-b", "netns", host.name)
            ip("addr", "add", f"{host.peer}/24", "dev", f"{host.name}-a")
            ip("link", "set", f"{host.name}-a", "up")
            for command in (["addr", "add", f"{host.address}/24", "dev", f"{host.name}-b"],
                            ["link", "set", f"{host.name}-b", "up"],
                            ["link", "set", "lo", "up"]):
                ip("netns", "exec", host.name, "ip", *command)
        yield made
    finally:
        for host in made:
            for proxy in host.proxies:
                proxy.stop()
            host.lose() if _exists(host) else None
            subprocess.run(["ip", "link", "del", f"{host.name}-a"], capture_output=True)
            subprocess.run(["ip", "netns", "del", host.name], capture_output=True)


def _exists(host: Host) -> bool:
    return host.name in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                       text=True).stdout


def test_a_sweep_shared_by_two_hosts_is_finished_by_one_when_the_other_is_lost(
        hosts: list[Host], tmp_path: Path) -> None:
    require_redis()
    database = migrated_postgres("two_hosts")
    endpoint = s3_endpoint("moto")
    bucket = new_bucket(endpoint)
    shared = {"BROKER_QUEUE_PREFIX": queue_prefix(), "S3_BUCKET_NAME": bucket,
              "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
              "S3_REGION": "us-east-1", "LEASE_SECONDS": "3", "HEARTBEAT_SECONDS": "0.5",
              "LOG_LEVEL": "WARNING"}
    workers = []
    for host in hosts:
        env = {**os.environ, **shared, "DATABASE_URL": host.reach(database),
               "REDIS_URL": host.reach(REDIS_URL), "S3_ENDPOINT_URL": host.reach(endpoint)}
        workers.append(host.start(env, tmp_path / f"{host.name}.log"))
    # A worker is named by its host and process id; `ip netns exec` becomes the worker.
    names = [f"{socket.gethostname()}:{worker.pid}" for worker in workers]
    os.environ.setdefault("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    try:
        with simdock.connect(database, redis_url=REDIS_URL, s3_bucket_name=bucket,
                             s3_endpoint_url=endpoint, s3_region="us-east-1",
                             broker_queue_prefix=shared["BROKER_QUEUE_PREFIX"]) as dock:
            sweep = dock.sweep("heat1d", grid={"diffusivity": [0.01 + i / 1000
                                                               for i in range(RUNS)]},
                               base=HEAT)
            deadline = time.monotonic() + 90
            while True:
                with dock.platform.uow() as uow:
                    runs = uow.runs.for_job(sweep.id)
                by_host = {r.worker for r in runs if r.status is RunStatus.SUCCEEDED}
                if len(by_host) >= 2 and sum(r.status is RunStatus.SUCCEEDED
                                             for r in runs) >= 10:
                    break
                assert time.monotonic() < deadline, "both hosts never took part: " + \
                    (tmp_path / f"{hosts[0].name}.log").read_text()[-2000:]
                time.sleep(0.1)
            hosts[0].lose()
            with dock.platform.uow() as uow:
                lost = {r.id for r in uow.runs.for_job(sweep.id)
                        if r.status is RunStatus.RUNNING and r.worker == names[0]}
            sweep.wait(timeout=180)
            with dock.platform.uow() as uow:
                stored = uow.runs.for_job(sweep.id)
                artifacts = {r.id: uow.artifacts.list(r.id) for r in stored}
            blobs = set(dock.platform.blobs.list("runs/"))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(30)
    assert [r.status for r in stored] == [RunStatus.SUCCEEDED] * RUNS, \
        (tmp_path / f"{hosts[1].name}.log").read_text()[-3000:]
    assert all(r.result is not None for r in stored)
    assert {r.attempts for r in stored} <= {1, 2}
    assert lost, "the first host held no run when it was lost"
    for run in stored:
        if run.id in lost:  # taken back from the lost host, finished by the other
            assert (run.attempts, run.worker) == (2, names[1]), run
    assert all(any(a.name == "result.csv" for a in artifacts[r.id]) for r in stored)
    assert {a.blob_key for listed in artifacts.values() for a in listed} <= blobs
