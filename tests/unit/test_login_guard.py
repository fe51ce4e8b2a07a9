"""Failed logins are throttled per account and per client address; a success clears the
account's count; the refusal comes before any password is checked and says when to retry."""

from __future__ import annotations

import pytest

from simdock.clock import ManualClock
from simdock.errors import AuthenticationFailure, TooManyRequests
from simdock.platform import Limits, Platform
from simdock.usecases import auth
from simdock_adapters.auth.jwt_tokens import JwtAccessTokens
from tests.unit.fakes import make_platform

PASSWORD = "right-password"
LIMITS = Limits(progress_interval_seconds=0.0, login_failures_per_account=3,
                login_failures_per_address=5, login_failure_window_seconds=60)


def platform_with(*emails: str) -> Platform:
    from datetime import timedelta

    platform = make_platform(limits=LIMITS)
    platform.access_tokens = JwtAccessTokens("k" * 40, timedelta(minutes=5))
    for email in emails:
        auth.register_user(auth.RegisterUser(email, PASSWORD), platform)
    return platform


def fail(platform: Platform, email: str, client: str = "10.0.0.1") -> None:
    with pytest.raises(AuthenticationFailure):
        auth.login(email, "wrong-password", platform, client)


def test_an_account_is_throttled_after_its_failures_even_for_the_right_password() -> None:
    platform = platform_with("a@example.com")
    for _ in range(3):
        fail(platform, "a@example.com")
    with pytest.raises(TooManyRequests) as refused:
        auth.login("a@example.com", PASSWORD, platform, "10.0.0.2")
    assert refused.value.retry_after == pytest.approx(60, abs=1)
    assert "for this account" in refused.value.message


def test_failures_age_out_one_by_one() -> None:
    platform = platform_with("a@example.com")
    clock = platform.clock
    assert isinstance(clock, ManualClock)
    fail(platform, "a@example.com")
    clock.advance(30)
    fail(platform, "a@example.com")
    fail(platform, "a@example.com")
    with pytest.raises(TooManyRequests) as refused:
        auth.login("a@example.com", PASSWORD, platform)
    assert refused.value.retry_after == pytest.approx(30, abs=1)  # when the first leaves
    clock.advance(31)
    assert auth.login("a@example.com", PASSWORD, platform).user.email == "a@example.com"


def test_a_success_clears_the_accounts_count() -> None:
    platform = platform_with("a@example.com")
    fail(platform, "a@example.com")
    fail(platform, "a@example.com")
    auth.login("a@example.com", PASSWORD, platform)
    fail(platform, "a@example.com")
    fail(platform, "a@example.com")
    auth.login("a@example.com", PASSWORD, platform)  # not throttled: the count started over


def test_one_address_guessing_many_accounts_is_throttled() -> None:
    emails = [f"u{i}@example.com" for i in range(6)]
    platform = platform_with(*emails)
    for email in emails[:5]:
        fail(platform, email, "10.9.9.9")
    with pytest.raises(TooManyRequests, match="from this address"):
        auth.login(emails[5], PASSWORD, platform, "10.9.9.9")
    assert auth.login(emails[5], PASSWORD, platform, "10.1.1.1").user.email == emails[5]


def test_unknown_accounts_count_too_and_learn_nothing() -> None:
    platform = platform_with()
    for _ in range(3):
        fail(platform, "nobody@example.com")
    with pytest.raises(TooManyRequests):
        auth.login("nobody@example.com", PASSWORD, platform)
