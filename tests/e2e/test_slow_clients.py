"""Slow and truncated request bodies against a real ``simdock serve``, on SQLite and PostgreSQL.

Seen before: a request whose body was shorter than its Content-Length held a
server thread for more than 150 s, and 24 of them left ``GET /live``
unanswered; a body cut short when the client closed its side (52 of a declared
5,000 bytes) made a job, and a job configuration uploaded through a file link,
cut to 14 of 100,000 bytes, was stored. Now a request reaches a thread only once
all of it has arrived, a body that ends early is refused before any view (in
the path's dialect) and stores nothing, and a client that stops sending gets 408.
"""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.databases import create_postgres_database
from tests.e2e.helpers import SECRET_KEY, TIMEOUT, User, assert_envelope, register_and_login
from tests.e2e.raw_http import RawResponse, request_head
from tests.e2e.servers import running_server

EPX_HEADERS = {"Content-Type": "application/json", "fredcli-version": "0.4.0"}
#: How many slow clients the server must bear while answering everyone else.
SLOW_CLIENTS = 200


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, Path]]:
    directory = tmp_path_factory.mktemp(f"slow-{request.param}")
    database = (f"sqlite:///{directory / 'simdock.db'}" if request.param == "sqlite"
                else create_postgres_database("simdock_slow"))
    with running_server(directory, SECRET_KEY=SECRET_KEY, DATABASE_URL=database,
                        DISPATCH="database", REQUEST_READ_TIMEOUT="120") as url:
        yield url, directory


@pytest.fixture(scope="module")
def user(server: tuple[str, Path]) -> User:
    return register_and_login(server[0], "slow")


@pytest.fixture(scope="module")
def epx_headers(user: User) -> dict[str, str]:
    token = user.post("/api/v1/auth/tokens", json={"name": "epx"}).json()["token"]
    return {**EPX_HEADERS, "Offline-Token": f"Bearer {token}"}


def connect(base_url: str) -> socket.socket:
    address = urlsplit(base_url)
    return socket.create_connection((address.hostname, address.port), timeout=TIMEOUT)


def answer_of(sock: socket.socket) -> RawResponse:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return RawResponse(response.status, response.headers, response.read())


def statuses_of(sock: socket.socket, count: int) -> list[int]:
    """The statuses of ``count`` answers read one after another off one connection."""
    reader = sock.makefile("rb")
    statuses = []
    for _ in range(count):
        statuses.append(int(reader.readline().split()[1]))
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        reader.read(length)
    return statuses


def cut_short(base_url: str, method: str, path: str, headers: dict[str, str], body: bytes,
              declared: int) -> RawResponse:
    """Send ``body`` under a Content-Length of ``declared``, then close our side."""
    with connect(base_url) as sock:
        sock.sendall(request_head(method, path, {**headers, "Content-Length": str(declared)})
                     + body)
        sock.shutdown(socket.SHUT_WR)
        return answer_of(sock)


def files_under(directory: Path) -> set[Path]:
    return {path for path in directory.rglob("*") if path.is_file()}


def test_a_job_submission_cut_short_is_refused_and_makes_no_job(user: User) -> None:
    before = user.get("/api/v1/jobs?size=1").json()["total"]
    body = json.dumps({"simulation_type": "noop", "params": {"x": 1}}).encode().ljust(52)
    answer = cut_short(user.base_url, "POST", "/api/v1/jobs",
                       {**user.headers, "Content-Type": "application/json"}, body, 5000)
    envelope = assert_envelope(answer, 400, "InvalidParameterValue")
    assert "ended after 52 of the 5000 bytes" in envelope["error"]["message"]
    assert user.get("/api/v1/jobs?size=1").json()["total"] == before


def test_a_chunked_body_cut_short_is_refused(user: User) -> None:
    before = user.get("/api/v1/jobs?size=1").json()["total"]
    head = request_head("POST", "/api/v1/jobs", {
        **user.headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    with connect(user.base_url) as sock:
        sock.sendall(head + b'40\r\n{"simulation_type": "noop"}')
        sock.shutdown(socket.SHUT_WR)
        answer = answer_of(sock)
    assert "last chunk" in assert_envelope(answer, 400)["error"]["message"]
    assert user.get("/api/v1/jobs?size=1").json()["total"] == before


def test_a_route_that_reads_no_body_does_nothing_on_one_cut_short(user: User) -> None:
    run = user.post("/api/v1/jobs", json={"simulation_type": "noop"}).json()["jobs"][0]
    answer = cut_short(user.base_url, "DELETE", f"/api/v1/jobs/{run}", user.headers,
                       b"{}", 100)
    assert_envelope(answer, 400, "InvalidParameterValue")
    assert user.get(f"/api/v1/jobs/{run}").json()["status"] == "queued"  # no worker here
    assert user.delete(f"/api/v1/jobs/{run}").status_code == 200


def test_an_epistemix_registration_cut_short_is_refused_in_its_dialect(
        user: User, epx_headers: dict[str, str]) -> None:
    def latest() -> Any:
        answer = requests.get(f"{user.base_url}/jobs?latest=true", headers=epx_headers,
                              timeout=TIMEOUT)
        return answer.json().get("id") if answer.status_code == 200 else None

    before = latest()
    answer = cut_short(user.base_url, "POST", "/jobs/register", epx_headers,
                       b'{"tags": ["cut"]}', 5000)
    assert answer.status_code == 400, answer.text
    assert "ended after 17 of the 5000 bytes" in answer.json()["description"]
    assert latest() == before


def test_an_upload_through_a_file_link_cut_short_stores_nothing(
        server: tuple[str, Path], epx_headers: dict[str, str]) -> None:
    base_url, directory = server
    job = requests.post(f"{base_url}/jobs/register", json={"tags": ["upload"]},
                        headers=epx_headers, timeout=TIMEOUT).json()["id"]
    link = requests.post(f"{base_url}/jobs", json={"jobId": job, "context": "job",
                                                   "type": "config"},
                         headers=epx_headers, timeout=TIMEOUT).json()["url"]
    path = urlsplit(link).path
    stored = files_under(directory / "artifacts")
    answer = cut_short(base_url, "PUT", path, {}, b'{"config": 1}\n', 100_000)
    envelope = assert_envelope(answer, 400, "InvalidParameterValue")
    assert "ended after 14 of the 100000 bytes" in envelope["error"]["message"]
    assert files_under(directory / "artifacts") == stored
    whole = requests.put(link, data=b'{"config": 1}\n', timeout=TIMEOUT)
    assert whole.status_code == 200, whole.text
    assert len(files_under(directory / "artifacts")) == len(stored) + 1


def test_a_client_waiting_for_100_continue_gets_it_once(user: User) -> None:
    body = json.dumps({"simulation_type": "noop"}).encode()
    head = request_head("POST", "/api/v1/jobs", {
        **user.headers, "Content-Type": "application/json", "Expect": "100-continue",
        "Content-Length": str(len(body)), "Connection": "close"})
    with connect(user.base_url) as sock:
        sock.sendall(head)
        sock.settimeout(2)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.settimeout(TIMEOUT)
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:200]


def test_requests_sent_back_to_back_are_answered_in_order(user: User) -> None:
    body = json.dumps({"simulation_type": "noop"}).encode()
    first = request_head("POST", "/api/v1/jobs", {
        **user.headers, "Content-Type": "application/json", "Content-Length": str(len(body))})
    with connect(user.base_url) as sock:
        sock.sendall(first + body + request_head("GET", "/live") + request_head(
            "GET", "/api/v1/auth/me", {**user.headers, "Connection": "close"}))
        statuses = statuses_of(sock, 3)
    assert statuses == [201, 200, 200]


class SlowClients:
    """``count`` connections that sent a request's head and then too little: half stop
    there, half send one more byte of their body every ``pause`` seconds."""

    def __init__(self, base_url: str, headers: dict[str, str], count: int,
                 pause: float) -> None:
        head = request_head("POST", "/api/v1/jobs", {
            **headers, "Content-Type": "application/json", "Content-Length": "5000"})
        self.idle = [self._open(base_url, head + b'{"simulation_type"')
                     for _ in range(count // 2)]
        self.trickling = [self._open(base_url, head) for _ in range(count - count // 2)]
        self.pause = pause
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    @staticmethod
    def _open(base_url: str, data: bytes) -> socket.socket:
        sock = connect(base_url)
        sock.sendall(data)
        return sock

    def _trickle(self) -> None:
        while not self._stop.wait(self.pause):
            for sock in self.trickling:
                sock.sendall(b" ")
            self.sent += 1

    def all_open(self) -> bool:
        """Whether every slow connection is still open, with no answer yet."""
        for sock in self.idle + self.trickling:
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)
                return False  # an answer came, or the server closed the connection
            except BlockingIOError:
                continue
            finally:
                sock.setblocking(True)
        return True

    def close(self) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT)
        for sock in self.idle + self.trickling:
            sock.close()


def timed(call: Any) -> tuple[float, int]:
    started = time.perf_counter()
    status = call().status_code
    return time.perf_counter() - started, status


def test_two_hundred_slow_clients_leave_the_server_answering(
        server: tuple[str, Path], user: User) -> None:
    base_url = server[0]
    slow = SlowClients(base_url, user.headers, SLOW_CLIENTS, pause=2.0)
    try:
        time.sleep(1)  # every slow connection accepted and waiting on the server
        live, api = [], []
        for _ in range(30):  # over about 6 s, while the slow clients trickle
            live.append(timed(lambda: requests.get(f"{base_url}/live", timeout=TIMEOUT)))
            time.sleep(0.2)
        for _ in range(10):
            api.append(timed(lambda: user.get("/api/v1/jobs?size=5")))
        api.append(timed(lambda: user.post("/api/v1/jobs", json={"simulation_type": "noop"})))
        assert slow.sent >= 2, "the slow clients trickled while the server was measured"
        assert slow.all_open()
    finally:
        slow.close()
    seconds = [s for s, _ in live]
    print(f"\n/live with {SLOW_CLIENTS} slow clients open ({base_url}): "
          f"median {statistics.median(seconds) * 1000:.1f} ms, "
          f"max {max(seconds) * 1000:.1f} ms; API calls: median "
          f"{statistics.median(s for s, _ in api) * 1000:.1f} ms, "
          f"max {max(s for s, _ in api) * 1000:.1f} ms")
    assert [status for _, status in live] == [200] * len(live)
    assert [status for _, status in api] == [200] * (len(api) - 1) + [201]
    assert max(seconds) < 5 and max(s for s, _ in api) < 5


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that waits 2 s for a slow client, and takes bodies of 4 KiB but uploads
    through file links of up to 200 kB."""
    with running_server(tmp_path_factory.mktemp("impatient"), SECRET_KEY=SECRET_KEY,
                        REQUEST_READ_TIMEOUT="2", MAX_CONTENT_LENGTH="4096",
                        MAX_INPUT_BYTES="200000") as url:
        yield url


@pytest.mark.parametrize("dialect", ["simdock", "epistemix"])
def test_a_client_that_stops_sending_gets_408_in_its_dialect(impatient: str,
                                                             dialect: str) -> None:
    user = register_and_login(impatient, "stalled")
    path = "/api/v1/jobs" if dialect == "simdock" else "/jobs/register"
    head = request_head("POST", path, {**user.headers, "Content-Type": "application/json",
                                       "Content-Length": "100"})
    with connect(impatient) as sock:
        started = time.monotonic()
        sock.sendall(head + b'{"simulation_type": "noop"')
        answer = answer_of(sock)
        waited = time.monotonic() - started
    assert 1.5 < waited < 10, waited
    assert answer.status_code == 408
    assert answer.headers["Connection"] == "close"
    if dialect == "simdock":
        message = assert_envelope(answer, 408, "RequestTimeout")["error"]["message"]
    else:
        message = answer.json()["description"]
    assert "did not arrive in time" in message and "2 s" in message
    assert user.get("/api/v1/jobs?size=1").json()["total"] == 0


def test_a_head_never_finished_gets_408_and_a_silent_connection_is_closed(
        impatient: str) -> None:
    with connect(impatient) as sock:
        sock.sendall(b"GET /live HTTP/1.1\r\nHost: x\r\n")
        answer = answer_of(sock)
    assert "head did not arrive in time" in assert_envelope(answer, 408)["error"]["message"]
    with connect(impatient) as sock:
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed, with nothing to answer
        assert 1.5 < time.monotonic() - started < 10


def test_an_upload_larger_than_a_body_is_read_as_it_comes_with_the_same_rules(
        impatient: str) -> None:
    """An upload through a file link over MAX_CONTENT_LENGTH is not gathered first: cut
    short it is a 400, stalled a 408, whole it is stored."""
    user = register_and_login(impatient, "uploader")
    token = user.post("/api/v1/auth/tokens", json={"name": "epx"}).json()["token"]
    epx = {**EPX_HEADERS, "Offline-Token": f"Bearer {token}"}
    job = requests.post(f"{impatient}/jobs/register", json={"tags": ["big"]}, headers=epx,
                        timeout=TIMEOUT).json()["id"]

    def link() -> str:
        answer = requests.post(f"{impatient}/jobs", json={"jobId": job, "context": "job",
                                                          "type": "config"},
                               headers=epx, timeout=TIMEOUT)
        return str(answer.json()["url"])

    body = b"x" * 50_000
    cut = cut_short(impatient, "PUT", urlsplit(link()).path, {}, body[:20_000], len(body))
    assert "ended after 20000 of the 50000 bytes" in assert_envelope(cut, 400)["error"][
        "message"]
    with connect(impatient) as sock:
        sock.sendall(request_head("PUT", urlsplit(link()).path,
                                  {"Content-Length": str(len(body))}) + body[:20_000])
        stalled = answer_of(sock)
    assert "stopped sending" in assert_envelope(stalled, 408)["error"]["message"]
    whole = requests.put(link(), data=body, timeout=TIMEOUT)
    assert whole.status_code == 200, whole.text
    over = requests.put(link(), data=b"x" * 200_001, timeout=TIMEOUT)
    assert_envelope(over, 413)

