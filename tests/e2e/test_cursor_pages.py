"""Listings page by cursor over HTTP as well as by number, and refuse cursors they did not make."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.e2e.helpers import User, assert_envelope, assert_page

SERVER_ENV = {"DISPATCH": "database"}  # runs stay queued: the listing does not move


@pytest.fixture(scope="module")
def lister(new_user: Any) -> User:
    user: User = new_user("lister")
    for _ in range(3):
        created = user.post("/api/v1/jobs", json={"simulation_type": "noop",
                                                  "grid": {"i": list(range(4))}})
        assert created.status_code == 201, created.text
    return user


def walk(user: User, path: str, size: int) -> tuple[list[str], list[int]]:
    response = user.get(f"{path}?size={size}")
    seen: list[str] = []
    pages: list[int] = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        assert_page(body, body["page"], size)
        seen += [item["id"] for item in body["items"]]
        pages.append(body["page"])
        if body["next_cursor"] is None:
            return seen, pages
        response = user.get(f"{path}?size={size}&cursor={body['next_cursor']}")


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/simulations"])
def test_paging_by_cursor_gives_the_same_items_as_paging_by_number(lister: User,
                                                                   path: str) -> None:
    by_cursor, pages = walk(lister, path, 5)
    by_number = [item["id"] for page in range(1, len(pages) + 1)
                 for item in lister.get(f"{path}?size=5&page={page}").json()["items"]]
    assert by_cursor == by_number and len(set(by_cursor)) == len(by_cursor)
    assert pages == list(range(1, len(pages) + 1))


def test_a_cursor_keeps_the_order_it_was_made_for(lister: User) -> None:
    first = lister.get("/api/v1/jobs?size=2&order_by=index").json()
    assert first["next_cursor"]
    again = lister.get(f"/api/v1/jobs?size=2&order_by=index&cursor={first['next_cursor']}")
    assert again.status_code == 200
    other = lister.get(f"/api/v1/jobs?size=2&order_by=-created_at&cursor={first['next_cursor']}")
    assert_envelope(other, 400, "InvalidParameterValue")


def forged(*parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "not-a-cursor", "%00", "A" * 2000, forged("created_at", True, "yesterday", 5, 1),
    forged("created_at", True, {"t": "2026-01-01T00:00:00"}, 5, 1),
    forged("password_hash", True, "x", 5, 1), forged("index", False, 1, -3, 1),
    forged("created_at", True), forged([1], 2, 3, 4, 5),
])
def test_a_cursor_it_did_not_make_is_a_clear_400(lister: User, cursor: str) -> None:
    response = lister.get(f"/api/v1/jobs?cursor={cursor}")
    assert response.status_code in (400, 422)
    assert_envelope(response, response.status_code, "InvalidParameterValue")
