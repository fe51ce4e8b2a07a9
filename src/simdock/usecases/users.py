"""Users: the owners of jobs."""

from __future__ import annotations

from simdock.domain import User
from simdock.domain.text import check_text
from simdock.errors import NotFound
from simdock.platform import Platform


def ensure_user(email: str, platform: Platform, full_name: str | None = None) -> User:
    """The user with this email, created if absent (the embedded platform's local user)."""
    check_text(email, "email")
    with platform.uow() as uow:
        user = uow.users.get_by_email(email)
        if user is None:
            user = User(platform.ids.new("usr"), email, platform.clock.now(), full_name)
            uow.users.add(user)
            uow.commit()
    return user


def set_admin(email: str, admin: bool, platform: Platform) -> User:
    """Grant (or take back) the administrator role; NotFound for an unknown email.

    Meant for the operator's command line (``simdock admin grant EMAIL``):
    no HTTP route grants it.
    """
    check_text(email, "email")
    with platform.uow() as uow:
        user = uow.users.get_by_email(email)
        if user is None:
            raise NotFound("user", email)
        if user.is_admin != admin:
            user.is_admin = admin
            uow.users.update(user)
            uow.commit()
    return user
