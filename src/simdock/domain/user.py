"""The user: someone who owns jobs, reports and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(eq=False)
class User:
    """Someone who owns jobs; an administrator may also change shared resources (machines)."""

    id: str
    email: str
    created_at: datetime
    full_name: str | None = None
    password_hash: str | None = None
    is_active: bool = True
    number: int | None = None
    is_admin: bool = False
