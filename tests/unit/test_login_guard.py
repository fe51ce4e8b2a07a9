"""Failed logins slow a guesser down without locking the account's owner out.

Seen before: 10 wrong passwords locked an account for 15 minutes, so its owner's
right password was refused with 429 from any address; and 50 failures from one
address over any accounts locked out every user behind that address (behind a
proxy, everyone). Now: the pair (account, address) is throttled with a delay that
doubles; failures from addresses an account does not know are counted for the
account, delaying only such addresses; an address's own count only takes away its
free failures, never refusing an account it has not failed for.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from simdock.clock import ManualClock
from simdock.domain.login_throttle import LoginLimits, client_key, delay_after
from simdock.errors import AuthenticationFailure, TooManyRequests
from simdock.limits import Limits
from simdock.platform import Platform
from simdock.usecases import auth, login_guard
from simdock_adapters.auth.jwt_tokens import JwtAccessTokens
from tests.unit.fakes import make_platform

PASSWORD = "right-password"
LOGIN = LoginLimits()  # the defaults the README states
OWNER, ATTACKER, ELSEWHERE = "192.0.2.10", "198.51.100.66", "203.0.113.5"


def platform_with(*emails: str, login: LoginLimits = LOGIN) -> Platform:
    platform = make_platform(limits=Limits(progress_interval_seconds=0.0, login=login),
                             access_tokens=JwtAccessTokens("k" * 40, timedelta(minutes=5)))
    for email in emails:
        platform.auth.register_user(auth.RegisterUser(email, PASSWORD))
    return platform


def clock_of(platform: Platform) -> ManualClock:
    assert isinstance(platform.clock, ManualClock)
    return platform.clock


def fail(platform: Platform, email: str, client: str | None) -> None:
    with pytest.raises(AuthenticationFailure):
        platform.auth.login(email, "wrong-password", client)


def guess(platform: Platform, email: str, client: str) -> float | None:
    """One wrong guess, as the throttle sees it (no password hashed): None if it was let
    through (and counted), else how long it was told to wait."""
    attempt = login_guard.LoginAttempt.of(email, client)
    with platform.uow() as uow:
        try:
            login_guard.admit(uow, attempt, platform.clock.now(), platform.limits.login)
        except TooManyRequests as refused:
            return refused.retry_after
        uow.commit()
    return None


def logs_in(platform: Platform, email: str, client: str) -> bool:
    return platform.auth.login(email, PASSWORD, client).user.email == email


def test_the_owner_logs_in_from_a_known_address_while_another_address_guesses() -> None:
    platform = platform_with("owner@example.com")
    assert logs_in(platform, "owner@example.com", OWNER)
    for i in range(LOGIN.failures_per_account + 1):
        fail(platform, "owner@example.com", f"198.51.100.{i}")  # from many addresses
    assert logs_in(platform, "owner@example.com", OWNER)
    with pytest.raises(TooManyRequests, match="addresses it has not logged in from"):
        platform.auth.login("owner@example.com", PASSWORD, ELSEWHERE)


def test_ten_failures_from_one_address_do_not_refuse_the_owner_elsewhere() -> None:
    platform = platform_with("owner@example.com")
    clock = clock_of(platform)
    for _ in range(10):
        while (wait := guess(platform, "owner@example.com", ATTACKER)) is not None:
            clock.advance(wait)
    assert logs_in(platform, "owner@example.com", ELSEWHERE)  # never logged in from there
    assert logs_in(platform, "owner@example.com", OWNER)


def test_guesses_from_one_address_wait_longer_and_longer_up_to_the_maximum() -> None:
    platform = platform_with("owner@example.com")
    clock = clock_of(platform)
    waits = []
    for _ in range(LOGIN.failures_before_delay):
        fail(platform, "owner@example.com", ATTACKER)
    for _ in range(12):
        assert guess(platform, "owner@example.com", ATTACKER) is None
        with pytest.raises(TooManyRequests, match="from this address") as refused:
            platform.auth.login("owner@example.com", PASSWORD, ATTACKER)  # even the right one
        waits.append(refused.value.retry_after)
        clock.advance(refused.value.retry_after)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert "try again in 300 s" in refused.value.message


def test_a_success_at_an_address_starts_its_count_over() -> None:
    platform = platform_with("owner@example.com")
    clock = clock_of(platform)
    for _ in range(LOGIN.failures_before_delay + 1):
        fail(platform, "owner@example.com", OWNER)
    assert guess(platform, "owner@example.com", OWNER) == 1
    clock.advance(1)
    assert logs_in(platform, "owner@example.com", OWNER)
    for _ in range(LOGIN.failures_before_delay):
        fail(platform, "owner@example.com", OWNER)
    assert logs_in(platform, "owner@example.com", OWNER)


def test_failures_leave_the_count_after_the_window() -> None:
    platform = platform_with("owner@example.com")
    for _ in range(LOGIN.failures_before_delay + 3):
        while (wait := guess(platform, "owner@example.com", ATTACKER)) is not None:
            clock_of(platform).advance(wait)
    assert guess(platform, "owner@example.com", ATTACKER) == 4
    clock_of(platform).advance(LOGIN.window_seconds + 1)
    assert guess(platform, "owner@example.com", ATTACKER) is None


def test_users_behind_one_address_are_not_locked_out_by_one_of_them() -> None:
    platform = platform_with("bystander@example.com", "typist@example.com")
    for i in range(LOGIN.failures_per_address + 10):  # one guess each at many accounts
        assert guess(platform, f"sprayed{i}@example.com", "10.0.0.1") is None
    assert guess(platform, "sprayed0@example.com", "10.0.0.1") == 1  # failed there before
    assert logs_in(platform, "bystander@example.com", "10.0.0.1")  # had never failed there
    fail(platform, "typist@example.com", "10.0.0.1")  # one typo: no free failures there now
    with pytest.raises(TooManyRequests, match="from this address") as refused:
        platform.auth.login("typist@example.com", PASSWORD, "10.0.0.1")
    assert refused.value.retry_after == 1
    clock_of(platform).advance(1)
    assert logs_in(platform, "typist@example.com", "10.0.0.1")


def test_an_address_under_its_limit_keeps_its_free_failures() -> None:
    platform = platform_with("owner@example.com")
    for i in range(LOGIN.failures_per_address - LOGIN.failures_before_delay):
        assert guess(platform, f"other{i % 50}@example.com", "10.0.0.1") is None
    for _ in range(LOGIN.failures_before_delay):
        assert guess(platform, "owner@example.com", "10.0.0.1") is None


def test_guessing_from_many_addresses_gets_one_guess_per_maximum_delay() -> None:
    platform = platform_with("owner@example.com")
    clock = clock_of(platform)
    assert logs_in(platform, "owner@example.com", OWNER)
    start, hourly, this_hour, address = clock.now(), [], 0, 0
    while clock.now() < start + timedelta(hours=24):
        address += 1
        wait = guess(platform, "owner@example.com", f"10.{address // 65536 % 256}."
                                                    f"{address // 256 % 256}.{address % 256}")
        if wait is None:
            this_hour += 1
        else:
            clock.advance(wait)
        if clock.now() >= start + timedelta(hours=len(hourly) + 1):
            hourly.append(this_hour)
            this_hour = 0
            assert logs_in(platform, "owner@example.com", OWNER)  # never kept out
    assert hourly[0] <= 30
    assert max(hourly[2:]) <= 3600 / LOGIN.max_delay_seconds + 1
    assert sum(hourly) <= 30 + 23 * 13


def test_an_address_stays_known_for_its_days() -> None:
    platform = platform_with("owner@example.com")
    assert logs_in(platform, "owner@example.com", OWNER)
    clock_of(platform).advance(LOGIN.known_address_days * 86400 - 60)
    for i in range(LOGIN.failures_per_account + 1):
        assert guess(platform, "owner@example.com", f"10.1.0.{i}") is None
    assert logs_in(platform, "owner@example.com", OWNER)  # known: logging in renewed it
    clock_of(platform).advance(LOGIN.known_address_days * 86400 + 60)
    for i in range(LOGIN.failures_per_account + 1):
        assert guess(platform, "owner@example.com", f"10.2.0.{i}") is None
    assert guess(platform, "owner@example.com", OWNER) == 1  # no longer known


def test_an_attempt_counts_as_a_failure_until_its_password_is_found_right() -> None:
    platform = platform_with("owner@example.com")
    for _ in range(LOGIN.failures_before_delay):
        assert guess(platform, "owner@example.com", ATTACKER) is None  # none finished yet
    assert guess(platform, "owner@example.com", ATTACKER) is None
    assert guess(platform, "owner@example.com", ATTACKER) == 1


def test_a_refused_attempt_is_not_counted() -> None:
    platform = platform_with("owner@example.com")
    for _ in range(LOGIN.failures_before_delay + 1):
        guess(platform, "owner@example.com", ATTACKER)
    for _ in range(20):
        assert guess(platform, "owner@example.com", ATTACKER) == 1
    clock_of(platform).advance(1)
    assert guess(platform, "owner@example.com", ATTACKER) is None


def test_equivalent_spellings_of_an_address_count_for_one_account() -> None:
    platform = platform_with("owner@example.com")
    spellings = ["OWNER@example.com", "\uff4fwner@example.com", "Owner@EXAMPLE.com",
                 "owner@example.com", "OWNER@EXAMPLE.COM"]
    for spelling in spellings:
        fail(platform, spelling, ATTACKER)
    fail(platform, "owner@example.com", ATTACKER)
    with pytest.raises(TooManyRequests):
        platform.auth.login("Owner@Example.com", PASSWORD, ATTACKER)


def test_unknown_accounts_are_throttled_alike_and_learn_nothing() -> None:
    platform = platform_with()
    for _ in range(LOGIN.failures_before_delay + 1):
        fail(platform, "nobody@example.com", ATTACKER)
    with pytest.raises(TooManyRequests, match="from this address"):
        platform.auth.login("nobody@example.com", PASSWORD, ATTACKER)


def test_ipv6_clients_are_counted_by_their_network() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") \
        == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key("192.0.2.1") == "192.0.2.1"
    assert client_key(None) is None
    assert client_key("not an address" * 10) == ("not an address" * 10)[:64]
    platform = platform_with("owner@example.com")
    for i in range(LOGIN.failures_before_delay + 1):
        assert guess(platform, "owner@example.com", f"2001:db8::{i + 1}") is None
    assert guess(platform, "owner@example.com", "2001:db8::ffff") == 1


def test_the_delay_doubles_from_the_first_failure_beyond_the_free_ones() -> None:
    limits = LoginLimits(delay_seconds=0.5, max_delay_seconds=3)
    assert [delay_after(n, 2, limits) for n in range(7)] == [0, 0, 0, 0.5, 1, 2, 3]
    assert delay_after(10_000, 0, limits) == 3
