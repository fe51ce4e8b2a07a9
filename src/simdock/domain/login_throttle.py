"""How long a login waits after failed ones: not at all at first, then a delay that doubles.

OWASP's Authentication Cheat Sheet prefers such a growing delay to a fixed
lockout (which anyone can use to lock an owner out), and counts failures
against the account rather than only the address (which a guesser can change).
:mod:`simdock.usecases.login_guard` applies these rules to what it counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: How an IPv6 client is counted: by its network of this size, which one host usually has.
IPV6_PREFIX = 64
_MAX_ADDRESS_KEY = 64


@dataclass(frozen=True)
class LoginLimits:
    """The throttling of failed logins (the README's "Login is throttled" states them)."""

    #: How long a failure is counted.
    window_seconds: float = 7200.0
    #: Failures for one account from one address before each next attempt there waits.
    failures_before_delay: int = 5
    #: Failures for one account from addresses it has not logged in from before each next
    #: attempt from any such address waits.
    failures_per_account: int = 10
    #: Failures from one address, over all accounts, after which its failures for any
    #: account make the next attempt there wait at once.
    failures_per_address: int = 100
    #: The first wait; each further failure doubles it, up to ``max_delay_seconds``.
    delay_seconds: float = 1.0
    max_delay_seconds: float = 300.0
    #: How long a successful login makes its address known to its account.
    known_address_days: float = 30.0

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)

    @property
    def known_for(self) -> timedelta:
        return timedelta(days=self.known_address_days)


def delay_after(failures: int, allowance: int, limits: LoginLimits) -> float:
    """Seconds the next attempt waits after the latest of ``failures`` counted failures:
    none while they are within ``allowance``, then the delay doubling with each one more."""
    beyond = failures - allowance
    if beyond <= 0:
        return 0.0
    return min(limits.delay_seconds * 2.0 ** min(beyond - 1, 64), limits.max_delay_seconds)


def next_attempt_at(failures: Sequence[datetime], allowance: int, limits: LoginLimits
                    ) -> datetime | None:
    """When an attempt may be made again after ``failures`` (oldest first); None: now."""
    wait = delay_after(len(failures), allowance, limits)
    return failures[-1] + timedelta(seconds=wait) if wait else None


def client_key(address: str | None) -> str | None:
    """What a client address is counted as: itself, an IPv6 address its /64 network (an
    IPv4 address mapped into IPv6 the IPv4 address), other text its first characters."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address[:_MAX_ADDRESS_KEY]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)
