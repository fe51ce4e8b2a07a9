"""Behind proxies, login throttling counts each client, not the proxy (PROXY_HOPS), and never
keeps an account's owner out because others guessed its password.

Seen before: every request reached the server from the proxy's address, so 50
failed logins by anyone locked every user of the deployment out; and 10 wrong
passwords from one address refused the owner's right password from any other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.helpers import PASSWORD, SECRET_KEY, TIMEOUT, assert_envelope
from tests.e2e.servers import running_server

#: LOGIN_FAILURES_BEFORE_DELAY and LOGIN_FAILURES_PER_ACCOUNT (their defaults).
PER_PAIR, PER_ACCOUNT = 5, 10


def login(base_url: str, email: str, password: str, forwarded_for: str) -> requests.Response:
    return requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                         headers={"X-Forwarded-For": forwarded_for},
                         data={"username": email, "password": password})


def register(base_url: str, email: str) -> None:
    created = requests.post(f"{base_url}/api/v1/auth/register", timeout=TIMEOUT,
                            json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    hops = request.param
    directory = tmp_path_factory.mktemp(f"proxy-hops-{hops}")
    with running_server(directory, SECRET_KEY=SECRET_KEY, DISPATCH="database",
                        PROXY_HOPS=str(hops), LOGIN_DELAY_SECONDS="0.5") as url:
        yield url


@pytest.mark.parametrize("server", [1], indirect=True)
def test_behind_a_proxy_each_client_is_counted_apart(server: str) -> None:
    # The client's own claim comes first; the proxy appends the address it saw.
    statuses = [login(server, "someone@example.com", "wrong-password",
                      "10.0.0.7, 192.0.2.1").status_code for _ in range(PER_PAIR + 1)]
    assert statuses == [401] * (PER_PAIR + 1)
    refused = login(server, "someone@example.com", "wrong-password", "192.0.2.1")
    assert_envelope(refused, 429, "ResourceLimitExceeded")
    assert login(server, "someone@example.com", "wrong-password", "192.0.2.2").status_code \
        == 401


@pytest.mark.parametrize("server", [1], indirect=True)
def test_ten_wrong_passwords_from_one_address_do_not_keep_the_owner_out(server: str) -> None:
    register(server, "owner@example.com")
    failures = 0
    while failures < PER_ACCOUNT:  # as fast as the growing delay lets one address guess
        guessed = login(server, "owner@example.com", "wrong-password", "198.51.100.66")
        if guessed.status_code == 429:
            time.sleep(float(guessed.headers["Retry-After"]))
        else:
            assert guessed.status_code == 401
            failures += 1
    # The owner, from an address that has not been failing (never used before, even).
    assert login(server, "owner@example.com", PASSWORD, "192.0.2.10").status_code == 200


@pytest.mark.parametrize("server", [1], indirect=True)
def test_guessing_from_many_addresses_never_delays_the_owner_at_a_known_one(server: str
                                                                            ) -> None:
    register(server, "owner@example.com")
    assert login(server, "owner@example.com", PASSWORD, "192.0.2.10").status_code == 200
    statuses = [login(server, "owner@example.com", "wrong-password",
                      f"198.51.100.{i}").status_code for i in range(PER_ACCOUNT + 1)]
    assert statuses == [401] * (PER_ACCOUNT + 1)
    refused = login(server, "owner@example.com", "wrong-password", "198.51.100.200")
    body = assert_envelope(refused, 429, "ResourceLimitExceeded")
    assert "addresses it has not logged in from" in body["error"]["message"]
    assert refused.headers["Retry-After"] == "1"
    assert login(server, "owner@example.com", PASSWORD, "192.0.2.10").status_code == 200


@pytest.mark.parametrize("server", [0], indirect=True)
def test_without_proxies_a_forwarded_header_is_not_believed(server: str) -> None:
    statuses = [login(server, "someone@example.com", "wrong-password",
                      f"192.0.2.{i}").status_code for i in range(PER_PAIR + 2)]
    assert statuses == [401] * (PER_PAIR + 1) + [429]
