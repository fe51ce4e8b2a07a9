"""Failed logins slow a password guesser down without locking the account's owner out.

What is counted (within ``LoginLimits.window_seconds``), and what it does:

1. **An account at an address.** After ``failures_before_delay`` failures for one
   account from one client address, each next attempt for it from there waits
   ``delay_seconds`` after the latest failure, twice that after one failure more,
   and so on up to ``max_delay_seconds``. A successful login there clears the count.
2. **An account from addresses it does not know.** An address is known to an
   account for ``known_address_days`` after a successful login from it. Failures
   from other addresses are also counted for the account as a whole: after
   ``failures_per_account`` of them, an attempt from any address the account does
   not know waits in the same way, so that guessing from many addresses gains
   nothing. From a known address, others' failures never delay the owner.
3. **An address over all accounts.** After ``failures_per_address`` failures from
   one address, its failures get no free attempts: rule 1 delays the next attempt
   for an account from its first failure there. An account that the address has
   not failed for is never refused: the users behind one proxy are not locked out
   by one of them guessing.

An attempt is counted as a failure from the moment it is let through until its
password is found right, so concurrent guesses see each other; a refused attempt
is not counted, and its password is not checked. IPv6 clients are counted by
their /64 network (:func:`simdock.domain.login_throttle.client_key`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

from simdock.domain.identity import MAX_LENGTH, identity_key, may_name_an_account
from simdock.domain.login_throttle import LoginLimits, client_key, next_attempt_at
from simdock.domain.text import may_name_something
from simdock.errors import TooManyRequests
from simdock.repositories import UnitOfWork

_PAIR = "for this account from this address"
_ACCOUNT = "for this account from addresses it has not logged in from"


@dataclass(frozen=True)
class LoginAttempt:
    """Whom a login names (by identity key) and where it comes from (as counted)."""

    account: str | None
    address: str | None

    @classmethod
    def of(cls, email: object, client: str | None) -> LoginAttempt:
        account = None
        if isinstance(email, str) and may_name_an_account(email):
            account = identity_key(email)
            if len(account) > MAX_LENGTH:  # an expanding normalisation: keep the key short
                account = "sha256:" + hashlib.sha256(account.encode()).hexdigest()
        address = client_key(client) if client and may_name_something(client) else None
        return cls(account, address)

    @property
    def pair_key(self) -> str:
        return f"pair:{self.account}|{self.address or '-'}"

    @property
    def known_key(self) -> str:
        return f"known:{self.account}|{self.address or '-'}"

    @property
    def account_key(self) -> str:
        return f"account:{self.account}"

    @property
    def address_key(self) -> str:
        return f"address:{self.address}"


def admit(uow: UnitOfWork, attempt: LoginAttempt, now: datetime, limits: LoginLimits
          ) -> list[str]:
    """Refuse ``attempt`` (TooManyRequests, saying when to try again) if it must wait;
    else count it as a failure until it succeeds, returning the keys it was counted under."""
    failures = uow.login_failures
    since = now - limits.window
    counted = [attempt.address_key] if attempt.address else []
    if attempt.account is not None:
        address_failures = len(failures.since(attempt.address_key, since)) \
            if attempt.address else 0
        allowance = 0 if address_failures >= limits.failures_per_address \
            else limits.failures_before_delay
        rules = [(attempt.pair_key, allowance, _PAIR)]
        last_success = failures.last_success(attempt.known_key)
        if last_success is None or last_success < now - limits.known_for:
            rules.append((attempt.account_key, limits.failures_per_account, _ACCOUNT))
        waits = []
        for key, free, whose in rules:
            until = next_attempt_at(failures.since(key, since), free, limits)
            if until is not None and until > now:
                waits.append(((until - now).total_seconds(), whose))
        if waits:
            wait, whose = max(waits)
            raise TooManyRequests(
                f"too many failed logins {whose}; try again in {math.ceil(wait)} s", wait)
        counted += [key for key, _, _ in rules]
    for key in counted:
        failures.add(key, now)
        failures.forget(key, before=since)
    return counted


def succeeded(uow: UnitOfWork, attempt: LoginAttempt, counted: list[str], now: datetime
              ) -> None:
    """Take back what ``admit`` counted for an attempt whose password was right; the
    account's count at this address starts over, and the address is known to it."""
    for key in counted:
        if key == attempt.pair_key:
            uow.login_failures.forget(key)
        else:
            uow.login_failures.discard(key, now)
    uow.login_failures.remember_success(attempt.known_key, now)
