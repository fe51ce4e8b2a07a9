"""Users: the owners of jobs."""

from __future__ import annotations

from simdock.domain import User
from simdock.platform import Platform


def ensure_user(email: str, platform: Platform, full_name: str | None = None) -> User:
    """The user with this email, created if absent (the embedded platform's local user)."""
    with platform.uow() as uow:
        user = uow.users.get_by_email(email)
        if user is None:
            user = User(platform.ids.new("usr"), email, platform.clock.now(), full_name)
            uow.users.add(user)
            uow.commit()
    return user
