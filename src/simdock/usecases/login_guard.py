"""Failed logins slow a password guesser down: counted per account and per client address.

After ``Limits.login_failures_per_account`` failures for one account, or
``login_failures_per_address`` from one client address, within
``login_failure_window_seconds``, a login is refused (TooManyRequests, with
when to try again) before any password is checked, right or wrong; the
failures age out of the window one by one. A successful login clears its
account's count.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from simdock.domain.text import may_name_something
from simdock.errors import TooManyRequests
from simdock.platform import Limits
from simdock.ports import UnitOfWork


def counted_against(email: object, client: str | None, limits: Limits
                    ) -> list[tuple[str, int]]:
    """The keys a login's failures count against, each with its limit."""
    keys = []
    if may_name_something(email) and isinstance(email, str) and len(email) <= 320:
        keys.append((f"account:{email.lower()}", limits.login_failures_per_account))
    if client and may_name_something(client):
        keys.append((f"address:{client[:100]}", limits.login_failures_per_address))
    return keys


def refuse_if_throttled(uow: UnitOfWork, keys: list[tuple[str, int]], now: datetime,
                        limits: Limits) -> None:
    window = timedelta(seconds=limits.login_failure_window_seconds)
    for key, limit in keys:
        failures = uow.login_failures.since(key, now - window)
        if len(failures) >= limit:
            # Below the limit again once the failure that makes it full leaves the window.
            wait = (failures[len(failures) - limit] + window - now).total_seconds()
            raise TooManyRequests(
                f"too many failed logins {_whose(key)}; try again in {math.ceil(wait)} s",
                max(1.0, wait))


def record_failure(uow: UnitOfWork, keys: list[tuple[str, int]], now: datetime,
                   limits: Limits) -> None:
    window = timedelta(seconds=limits.login_failure_window_seconds)
    for key, _ in keys:
        uow.login_failures.add(key, now)
        uow.login_failures.forget(key, before=now - window)


def record_success(uow: UnitOfWork, keys: list[tuple[str, int]]) -> None:
    for key, _ in keys:
        if key.startswith("account:"):
            uow.login_failures.forget(key)


def _whose(key: str) -> str:
    return "for this account" if key.startswith("account:") else "from this address"
