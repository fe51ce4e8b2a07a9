"""Time-limited download links for stored documents (seed 000's pre-signed URLs).

A blob store that can pre-sign (S3) gives its own URL; otherwise the link
points at ``/api/v1/downloads/<token>``, where the token is signed with
SECRET_KEY and expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from simdock.errors import NotFound, UnauthorizedOperation


@dataclass(frozen=True)
class Download:
    blob_key: str
    filename: str
    content_type: str


class DownloadLinks:
    def __init__(self, secret_key: str, lifetime_seconds: int) -> None:
        self._signer = URLSafeTimedSerializer(secret_key, salt="simdock-download")
        self.lifetime_seconds = lifetime_seconds

    def sign(self, download: Download, now: datetime) -> tuple[str, datetime]:
        token = self._signer.dumps([download.blob_key, download.filename, download.content_type])
        return token, now + timedelta(seconds=self.lifetime_seconds)

    def open(self, token: str) -> Download:
        try:
            key, filename, content_type = self._signer.loads(token, max_age=self.lifetime_seconds)
        except SignatureExpired:
            raise UnauthorizedOperation("this download link has expired; get the report "
                                        "again for a new one") from None
        except (BadSignature, ValueError):
            raise NotFound("download", token[:16]) from None
        return Download(key, filename, content_type)
