"""Time-limited download links for reports (seed 000's pre-signed URLs).

A blob store that can pre-sign (S3) gives its own URL; otherwise the link points at
``/api/v1/downloads/<token>``. The token is opaque: which report, whose, and until
when, encrypted and authenticated (AES-GCM) under a key derived from SECRET_KEY.
Whoever holds the link may download that one report until it expires; the token
reveals nothing of the report or of where it is stored, and one that was altered
or made under another SECRET_KEY is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from simdock.errors import NotFound, UnauthorizedOperation
from simdock_adapters.http.sealed import SealedTokens

#: Separates this key from every other use of SECRET_KEY (access tokens sign with it).
KEY_PURPOSE = b"simdock download links v1"


@dataclass(frozen=True)
class DownloadGrant:
    """What a valid link allows: downloading one report of one owner until ``expires_at``."""

    report_id: str
    owner_id: str
    expires_at: datetime


class DownloadLinks:
    """Issues and opens download tokens; they live ``lifetime_seconds``."""

    def __init__(self, secret_key: str, lifetime_seconds: int) -> None:
        self._tokens = SealedTokens(secret_key, KEY_PURPOSE)
        self.lifetime_seconds = lifetime_seconds

    def expiry(self, now: datetime) -> datetime:
        """When a link made ``now`` stops working (whole seconds, as the token holds it)."""
        return datetime.fromtimestamp(int(now.timestamp()) + self.lifetime_seconds, UTC)

    def grant(self, report_id: str, owner_id: str, now: datetime) -> tuple[str, datetime]:
        """A token for downloading the report, and when it expires."""
        expires_at = self.expiry(now)
        return self._tokens.seal([report_id, owner_id, int(expires_at.timestamp())]), \
            expires_at

    def open(self, token: str, now: datetime) -> DownloadGrant:
        """The grant a token holds; NotFound if it is not one of ours, UnauthorizedOperation
        once it has expired."""
        values = self._tokens.open(token)
        if values is None or len(values) != 3:
            raise NotFound("download", token[:16])
        report_id, owner_id, expires = values
        try:
            grant = DownloadGrant(str(report_id), str(owner_id),
                                  datetime.fromtimestamp(int(expires), UTC))
        except (ValueError, TypeError, OverflowError, OSError):
            raise NotFound("download", token[:16]) from None
        if now >= grant.expires_at:
            raise UnauthorizedOperation("this download link has expired; get the report "
                                        "again for a new one")
        return grant
