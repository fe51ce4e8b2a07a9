"""The user: someone who owns jobs, reports and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from simdock.domain.identity import identity_key, skeleton_digest


@dataclass(eq=False)
class User:
    """Someone who owns jobs; an administrator may also change shared resources (machines).

    ``email_key`` is what the account is found by and ``email_skeleton`` what it
    looks like (:mod:`simdock.domain.identity`): both follow from ``email`` unless
    given, as a store gives them for accounts that kept an earlier key (whose
    skeleton may then be None, held by an older look-alike).
    """

    id: str
    email: str
    created_at: datetime
    full_name: str | None = None
    password_hash: str | None = None
    is_active: bool = True
    number: int | None = None
    is_admin: bool = False
    email_key: str = ""
    email_skeleton: str | None = ""

    def __post_init__(self) -> None:
        if not self.email_key:
            self.email_key = identity_key(self.email)
        if self.email_skeleton == "":
            self.email_skeleton = skeleton_digest(self.email_key)
