"""API tokens: long-lived credentials for machines and scripts (and Epistemix's Offline-Token)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(eq=False)
class ApiToken:
    """A token's record; only a hash of the secret is ever stored."""

    id: str
    owner_id: str
    name: str
    token_hash: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
