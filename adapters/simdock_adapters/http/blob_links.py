"""Pre-signed links to blobs, issued by simdock for stores that have none (a local directory).

A store that pre-signs (S3) gives its own links; otherwise a link points at
``/files/<token>`` (served by :mod:`~simdock_adapters.http.transfers`), whose
opaque token says which blob, which method and until when.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from simdock.errors import NotFound, UnauthorizedOperation
from simdock.platform import Platform
from simdock.usecases.inputs import UploadTarget
from simdock_adapters.http.sealed import SealedTokens

KEY_PURPOSE = b"simdock blob links v1"


@dataclass(frozen=True)
class Transfer:
    """What a valid link allows: ``method`` on blob ``key`` until ``expires_at``; an upload
    link also says where its bytes go (the core's target)."""

    method: str
    key: str
    expires_at: datetime
    target: UploadTarget | None = None


class BlobLinks:
    """Issues and opens blob link tokens; they live ``lifetime_seconds``."""

    def __init__(self, secret_key: str, lifetime_seconds: int,
                 link_base: Callable[[], str]) -> None:
        """``link_base``: where this request's absolute links start."""
        self._tokens = SealedTokens(secret_key, KEY_PURPOSE)
        self.lifetime_seconds = lifetime_seconds
        self._link_base = link_base

    def download_url(self, blobs_platform: Platform, key: str, now: datetime) -> str:
        """A link to download blob ``key``: the store's own, else one of ours."""
        url = blobs_platform.blobs.url(key, self.lifetime_seconds)
        if url is not None:
            return url
        return self._url(["GET", key, self._expiry(now)])

    def upload_url(self, blobs_platform: Platform, target: UploadTarget, now: datetime) -> str:
        """A link to upload to ``target`` with PUT: the store's own, else one of ours."""
        url = blobs_platform.blobs.upload_url(target.key, self.lifetime_seconds)
        if url is not None:
            return url
        return self._url(["PUT", target.key, self._expiry(now), target.job_id,
                          target.owner_id, target.archive])

    def open(self, token: str, method: str, now: datetime) -> Transfer:
        """What a token allows; NotFound if it is not one of ours (or not for ``method``),
        UnauthorizedOperation once it has expired."""
        values = self._tokens.open(token) or []
        try:
            kind, key, expires = values[:3]
            transfer = Transfer(str(kind), str(key), datetime.fromtimestamp(int(expires), UTC))
            if kind == "PUT":
                job_id, owner_id, archive = values[3:]
                transfer = Transfer(kind, transfer.key, transfer.expires_at, UploadTarget(
                    transfer.key, str(job_id), str(owner_id), bool(archive)))
        except (ValueError, TypeError, OverflowError, OSError):
            raise NotFound("file", token[:16]) from None
        if transfer.method != method:
            raise NotFound("file", token[:16])
        if now >= transfer.expires_at:
            raise UnauthorizedOperation("this link has expired; ask for a new one")
        return transfer

    def _expiry(self, now: datetime) -> int:
        return int(now.timestamp()) + self.lifetime_seconds

    def _url(self, values: list[object]) -> str:
        return f"{self._link_base()}/files/{self._tokens.seal(values)}"
