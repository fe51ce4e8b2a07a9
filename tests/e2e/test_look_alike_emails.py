"""Over HTTP, on SQLite and PostgreSQL: one account per address however it is spelled, none
that looks like another's, and no invisible characters in an address.

Seen before: eleven look-alike addresses registered as separate accounts (201 each):
fullwidth letters, Cyrillic letters, zero-width characters, NFD forms, U+017F,
U+0130, a right-to-left override.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.databases import create_postgres_database
from tests.e2e.helpers import PASSWORD, SECRET_KEY, TIMEOUT, assert_envelope
from tests.e2e.servers import running_server

#: The accounts that exist before the look-alikes are tried.
OWNERS = ["owner@example.com", "jos\u00e9@example.com", "sam@example.com",
          "ivan@example.com"]
#: Each look-alike, and the status and words of its refusal.
LOOK_ALIKES = {
    "fullwidth letters": ("\uff4f\uff57\uff4e\uff45\uff52@example.com", 409,
                          "already exists"),
    "mathematical bold letters": ("\U0001d428\U0001d430\U0001d427\U0001d41e\U0001d42b"
                                  "@example.com", 409, "already exists"),
    "Cyrillic o": ("\u043ewner@example.com", 409, "looks like"),
    "Cyrillic o and e": ("\u043ewn\u0435r@example.com", 409, "looks like"),
    "Greek omicron": ("\u03bfwner@example.com", 409, "looks like"),
    "zero-width space": ("ow\u200bner@example.com", 422, "U+200B ZERO WIDTH SPACE"),
    "zero-width joiner": ("own\u200der@example.com", 422, "U+200D ZERO WIDTH JOINER"),
    "NFD form": ("jose\u0301@example.com", 409, "already exists"),
    "long s": ("\u017fam@example.com", 409, "already exists"),
    "dotted capital I": ("\u0130van@example.com", 409, "looks like"),
    "right-to-left override": ("\u202eowner@example.com", 422,
                               "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "byte order mark": ("owner\ufeff@example.com", 422, "U+FEFF"),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    directory: Path = tmp_path_factory.mktemp(f"look-alikes-{request.param}")
    environment = {"SECRET_KEY": SECRET_KEY, "DISPATCH": "database"}
    if request.param == "postgresql":
        environment["DATABASE_URL"] = create_postgres_database("simdock_look_alikes")
    with running_server(directory, **environment) as url:
        for email in OWNERS:
            assert register(url, email).status_code == 201
        yield url


def register(base_url: str, email: str) -> requests.Response:
    return requests.post(f"{base_url}/api/v1/auth/register", timeout=TIMEOUT,
                         json={"email": email, "password": PASSWORD})


def login(base_url: str, email: str) -> requests.Response:
    return requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                         json={"email": email, "password": PASSWORD})


@pytest.mark.parametrize("name", list(LOOK_ALIKES))
def test_a_look_alike_address_gets_no_account(server: str, name: str) -> None:
    email, status, words = LOOK_ALIKES[name]
    refused = register(server, email)
    body = assert_envelope(refused, status)
    assert words in body["error"]["message"]


def test_the_owner_logs_in_with_any_equivalent_spelling(server: str) -> None:
    spellings = {
        "owner@example.com": ["OWNER@EXAMPLE.COM", "\uff4f\uff57\uff4e\uff45\uff52@example.com",
                              "\U0001d428\U0001d430\U0001d427\U0001d41e\U0001d42b@example.com"],
        "jos\u00e9@example.com": ["jose\u0301@example.com", "JOS\u00c9@example.com"],
        "sam@example.com": ["\u017fam@example.com", "SAM@example.com"],
    }
    for owner, typed in spellings.items():
        for spelling in typed:
            logged_in = login(server, spelling)
            assert logged_in.status_code == 200, (spelling, logged_in.text)
            me = requests.get(f"{server}/api/v1/auth/me", timeout=TIMEOUT, headers={
                "Authorization": f"Bearer {logged_in.json()['access_token']}"}).json()
            assert me["email"] == owner


def test_a_look_alike_finds_no_account_to_log_in_to(server: str) -> None:
    for email in ("\u043ewner@example.com", "\u0130van@example.com"):
        assert_envelope(login(server, email), 401, "AuthenticationFailure")


def test_an_address_that_differs_visibly_is_free(server: str) -> None:
    assert register(server, "owners@example.com").status_code == 201
