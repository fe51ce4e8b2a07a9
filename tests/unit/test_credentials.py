"""Credentials remembered for a few seconds: fewer look-ups, and revocation still at once here."""

from __future__ import annotations

import pytest

from simdock.clock import ManualClock
from simdock.credentials import CredentialCache
from simdock.errors import AuthenticationFailure
from simdock.platform import Platform
from simdock.usecases import auth
from tests.unit.fakes import make_platform


def platform_remembering(seconds: float) -> tuple[Platform, str, str]:
    clock = ManualClock()
    platform = make_platform(clock=clock, credentials=CredentialCache(seconds, clock))
    user = platform.auth.register_user(auth.RegisterUser("a@example.com", "password-123"))
    token, secret = platform.auth.create_api_token(user.id, "ci")
    return platform, secret, token.id


def clock(platform: Platform) -> ManualClock:
    assert isinstance(platform.clock, ManualClock)
    return platform.clock


def revoke_behind_the_platforms_back(platform: Platform, token_id: str) -> None:
    """As another server process would: the token is revoked in the store only."""
    with platform.uow() as uow:
        token = uow.tokens.get(token_id)
        assert token is not None
        token.revoked_at = platform.clock.now()
        uow.tokens.update(token)
        uow.commit()


def test_a_token_checked_lately_is_not_looked_up_again() -> None:
    platform, secret, token_id = platform_remembering(5.0)
    assert platform.auth.authenticate(secret).email == "a@example.com"
    revoke_behind_the_platforms_back(platform, token_id)
    assert platform.auth.authenticate(secret).email == "a@example.com"


def test_without_a_cache_every_request_is_looked_up() -> None:
    platform, secret, token_id = platform_remembering(0.0)
    platform.auth.authenticate(secret)
    revoke_behind_the_platforms_back(platform, token_id)
    with pytest.raises(AuthenticationFailure, match="revoked"):
        platform.auth.authenticate(secret)


def test_a_remembered_token_is_looked_up_again_once_its_time_is_up() -> None:
    platform, secret, token_id = platform_remembering(0.2)
    platform.auth.authenticate(secret)
    revoke_behind_the_platforms_back(platform, token_id)
    clock(platform).advance(0.25)
    with pytest.raises(AuthenticationFailure):
        platform.auth.authenticate(secret)


def test_revoking_a_token_here_stops_it_at_once() -> None:
    platform, secret, token_id = platform_remembering(60.0)
    owner = platform.auth.authenticate(secret)
    platform.auth.revoke_api_token(token_id, owner.id)
    with pytest.raises(AuthenticationFailure):
        platform.auth.authenticate(secret)


def test_the_cache_is_bounded() -> None:
    platform, _, _ = platform_remembering(0.0)
    cache = CredentialCache(60.0, platform.clock, max_entries=3)
    with platform.uow() as uow:
        user = uow.users.get_by_email_key("a@example.com")
    assert user is not None
    for key in "abcd":
        cache.put(key, user)
    assert cache.get("a") is None and cache.get("d") is user
