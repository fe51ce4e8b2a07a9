"""Contract of the API token repository, over every repository adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simdock.domain import ApiToken, User
from simdock.errors import Conflict, NotFound
from simdock.repositories import UnitOfWorkFactory

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def token(token_id: str, owner: str = "usr-a", secret_hash: str | None = None,
          created: float = 0) -> ApiToken:
    return ApiToken(token_id, owner, f"name of {token_id}", secret_hash or f"hash-{token_id}",
                    "sdk_abc", T0 + timedelta(seconds=created))


def with_user(uow_factory: UnitOfWorkFactory, user_id: str = "usr-a") -> User:
    user = User(user_id, f"{user_id}@example.com", T0, "Someone", "scrypt$x")
    with uow_factory() as uow:
        uow.users.add(user)
        uow.commit()
    return user


def add(uow_factory: UnitOfWorkFactory, *tokens: ApiToken) -> None:
    with uow_factory() as uow:
        for item in tokens:
            uow.tokens.add(item)
        uow.commit()


def test_a_token_round_trips_and_is_found_by_its_hash(uow_factory: UnitOfWorkFactory) -> None:
    with_user(uow_factory)
    add(uow_factory, token("tok-1"))
    with uow_factory() as uow:
        by_id, by_hash = uow.tokens.get("tok-1"), uow.tokens.get_by_hash("hash-tok-1")
        assert uow.tokens.get_by_hash("nope") is None and uow.tokens.get("tok-x") is None
    assert by_id is not None and by_hash is not None
    assert (by_id.id, by_id.owner_id, by_id.name, by_id.prefix, by_id.created_at) == (
        "tok-1", "usr-a", "name of tok-1", "sdk_abc", T0)
    assert by_hash.id == "tok-1"


def test_a_token_is_found_with_its_owner_in_one_look_up(uow_factory: UnitOfWorkFactory) -> None:
    user = with_user(uow_factory)
    add(uow_factory, token("tok-1"))
    with uow_factory() as uow:
        found = uow.tokens.get_with_owner("hash-tok-1")
        missing = uow.tokens.get_with_owner("hash-unknown")
    assert missing is None and found is not None
    found_token, owner = found
    assert found_token.id == "tok-1"
    assert (owner.id, owner.email, owner.full_name, owner.is_active) == (
        user.id, user.email, user.full_name, True)


def test_the_same_id_or_hash_twice_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    with_user(uow_factory)
    add(uow_factory, token("tok-1"))
    with pytest.raises(Conflict), uow_factory() as uow:
        uow.tokens.add(token("tok-1", secret_hash="other"))
    with pytest.raises(Conflict), uow_factory() as uow:
        uow.tokens.add(token("tok-2", secret_hash="hash-tok-1"))


def test_listing_is_per_owner_and_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    with_user(uow_factory)
    with_user(uow_factory, "usr-b")
    add(uow_factory, token("tok-1", created=1), token("tok-2", created=3),
        token("tok-3", "usr-b", created=2))
    with uow_factory() as uow:
        assert [t.id for t in uow.tokens.list("usr-a")] == ["tok-2", "tok-1"]
        assert [t.id for t in uow.tokens.list("usr-b")] == ["tok-3"]


def test_revocation_and_last_use_are_stored(uow_factory: UnitOfWorkFactory) -> None:
    with_user(uow_factory)
    add(uow_factory, token("tok-1"))
    with uow_factory() as uow:
        stored = uow.tokens.get("tok-1")
        assert stored is not None
        stored.last_used_at, stored.revoked_at = T0 + timedelta(1), T0 + timedelta(2)
        uow.tokens.update(stored)
        uow.commit()
    with uow_factory() as uow:
        again = uow.tokens.get("tok-1")
    assert again is not None and again.revoked_at == T0 + timedelta(2)
    assert again.last_used_at == T0 + timedelta(1) and not again.usable(T0 + timedelta(3))


def test_updating_an_unknown_token_is_not_found(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(NotFound), uow_factory() as uow:
        uow.tokens.update(token("tok-x"))


def test_an_uncommitted_token_is_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    with_user(uow_factory)
    with uow_factory() as uow:
        uow.tokens.add(token("tok-1"))
    with uow_factory() as uow:
        assert uow.tokens.get("tok-1") is None and uow.tokens.get_by_hash("hash-tok-1") is None
