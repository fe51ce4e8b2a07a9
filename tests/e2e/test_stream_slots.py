"""Live streams are bounded per server process and per user, and a gone client's slot
comes back at once.

Seen before: user A opened 8 SSE streams and user B then got 503 on 6 of 6 stream
requests; a closed client kept its slot about 10 s (until the next keep-alive write).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.helpers import SECRET_KEY, TIMEOUT, User, assert_envelope, register_and_login
from tests.e2e.servers import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("slots"), SECRET_KEY=SECRET_KEY,
                        DISPATCH="database", MAX_OPEN_STREAMS="3") as url:
        yield url  # one stream per user (half of 3, at least 1), three in all


def stream_of(user: User) -> str:
    run_id = user.post("/api/v1/jobs", json={"simulation_type": "noop"}).json()["jobs"][0]
    return user.url(f"/api/v1/jobs/{run_id}/logs/stream")


def open_stream(user: User, url: str) -> requests.Response:
    return requests.get(url, headers=user.headers, stream=True, timeout=TIMEOUT)


def test_one_user_cannot_take_every_slot_and_the_process_is_bounded(server: str) -> None:
    alice, bob, carol, dave = (register_and_login(server, n)
                               for n in ("alice", "bob", "carol", "dave"))
    first = open_stream(alice, stream_of(alice))
    assert first.status_code == 200
    second = open_stream(alice, stream_of(alice))
    assert_envelope(second, 429, "ResourceLimitExceeded")
    assert int(second.headers["Retry-After"]) >= 1
    others = [open_stream(u, stream_of(u)) for u in (bob, carol)]
    assert [r.status_code for r in others] == [200, 200]
    full = open_stream(dave, stream_of(dave))
    assert_envelope(full, 503, "ServiceUnavailable")
    run_id = alice.post("/api/v1/jobs", json={"simulation_type": "noop"}).json()["jobs"][0]
    assert alice.get(f"/api/v1/jobs/{run_id}/logs").status_code == 200  # polling remains
    for response in (first, *others):
        response.close()


def test_a_slot_comes_back_as_soon_as_its_client_has_gone(server: str) -> None:
    erin = register_and_login(server, "erin")
    url = stream_of(erin)
    deadline = time.monotonic() + 15
    while (first := open_stream(erin, url)).status_code != 200:  # the last test's slots
        assert time.monotonic() < deadline
        time.sleep(0.2)
    next(first.iter_content(chunk_size=None))  # the stream is open
    first.close()
    closed = time.monotonic()
    while (again := open_stream(erin, url)).status_code != 200:
        assert time.monotonic() - closed < 3, "the slot of a closed stream did not come back"
        time.sleep(0.1)
    again.close()
