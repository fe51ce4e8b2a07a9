"""Users: the owners of jobs, found by their email address however it is spelled."""

from __future__ import annotations

from dataclasses import dataclass

from simdock.domain import User
from simdock.domain.identity import lookup_keys, may_name_an_account
from simdock.domain.text import check_text
from simdock.errors import Conflict, NotFound
from simdock.ports import Clock, IdGenerator
from simdock.repositories import UnitOfWork
from simdock.scope import UnitsOfWork


def find_user(uow: UnitOfWork, email: object) -> User | None:
    """The user ``email`` names: by its identity key, so any equivalent spelling finds the
    account (an account that kept its earlier key is found by its own spelling first:
    :func:`simdock.domain.identity.lookup_keys`)."""
    if not isinstance(email, str) or not may_name_an_account(email):
        return None
    for key in lookup_keys(email):
        user = uow.users.get_by_email_key(key)
        if user is not None:
            return user
    return None


def add_user(uow: UnitOfWork, user: User) -> None:
    """Store a new user, refused (Conflict) when its address names an existing account or
    looks like the address of one (:mod:`simdock.domain.identity`)."""
    if find_user(uow, user.email) is not None:
        raise Conflict(f"a user with email '{user.email}' already exists")
    if user.email_skeleton is not None \
            and uow.users.get_by_email_skeleton(user.email_skeleton) is not None:
        raise Conflict(f"the email '{user.email}' looks like the address of an existing "
                       f"account (they could be mistaken for each other): choose another")
    uow.users.add(user)


@dataclass(frozen=True)
class Users:
    """Users: the owners of jobs, found by their email address however it is spelled."""

    uow: UnitsOfWork
    clock: Clock
    ids: IdGenerator

    def ensure_user(self, email: str, full_name: str | None = None) -> User:
        """The user with this email, created if absent (the embedded platform's local user)."""
        check_text(email, "email")
        with self.uow() as uow:
            user = find_user(uow, email)
            if user is None:
                user = User(self.ids.new("usr"), email, self.clock.now(), full_name)
                add_user(uow, user)
                uow.commit()
        return user

    def set_admin(self, email: str, admin: bool) -> User:
        """Grant (or take back) the administrator role; NotFound for an unknown email.

        Meant for the operator's command line (``simdock admin grant EMAIL``):
        no HTTP route grants it.
        """
        check_text(email, "email")
        with self.uow() as uow:
            user = find_user(uow, email)
            if user is None:
                raise NotFound("user", email)
            if user.is_admin != admin:
                user.is_admin = admin
                uow.users.update(user)
                uow.commit()
        return user
