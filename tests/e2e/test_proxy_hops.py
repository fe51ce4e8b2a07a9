"""Behind proxies, login throttling counts each client, not the proxy (PROXY_HOPS).

Seen before: every request reached the server from the proxy's address, so 50
failed logins by anyone locked every user of the deployment out.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.e2e.helpers import SECRET_KEY, TIMEOUT, assert_envelope
from tests.e2e.servers import running_server

#: Failed logins allowed from one client address (LOGIN_FAILURES_PER_ADDRESS).
PER_ADDRESS = 50


def fail_login(base_url: str, account: int, forwarded_for: str) -> int:
    return requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                         headers={"X-Forwarded-For": forwarded_for},
                         data={"username": f"nobody{account}@example.com",
                               "password": "wrong-password"}).status_code


def fail_logins(base_url: str, count: int, forwarded_for: str) -> list[int]:
    """``count`` wrong passwords, spread over accounts so that none reaches its own limit."""
    return [fail_login(base_url, i % 10, forwarded_for) for i in range(count)]


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    hops = request.param
    directory = tmp_path_factory.mktemp(f"proxy-hops-{hops}")
    with running_server(directory, SECRET_KEY=SECRET_KEY, DISPATCH="database",
                        PROXY_HOPS=str(hops)) as url:
        yield url


@pytest.mark.parametrize("server", [1], indirect=True)
def test_behind_a_proxy_each_client_is_counted_apart(server: str) -> None:
    # The client's own claim comes first; the proxy appends the address it saw.
    assert fail_logins(server, PER_ADDRESS, "10.0.0.7, 192.0.2.1") == [401] * PER_ADDRESS
    assert_envelope(requests.post(f"{server}/api/v1/auth/login", timeout=TIMEOUT,
                                  headers={"X-Forwarded-For": "192.0.2.1"},
                                  data={"username": "nobody@example.com", "password": "x" * 12}),
                    429, "ResourceLimitExceeded")
    assert fail_login(server, 11, "192.0.2.2") == 401


@pytest.mark.parametrize("server", [0], indirect=True)
def test_without_proxies_a_forwarded_header_is_not_believed(server: str) -> None:
    statuses = [fail_login(server, i % 10, f"192.0.2.{i}") for i in range(PER_ADDRESS + 1)]
    assert statuses == [401] * PER_ADDRESS + [429]
