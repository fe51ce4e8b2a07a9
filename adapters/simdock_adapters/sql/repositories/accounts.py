"""Accounts in SQL: users, API tokens, failed and successful logins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from simdock.domain import ApiToken, User
from simdock.errors import Conflict, NotFound
from simdock_adapters.sql import mappers
from simdock_adapters.sql.repositories.base import SqlRepository, by_id
from simdock_adapters.sql.tables import api_tokens, login_failures, login_successes, users

_TOKEN_WITH_OWNER = (sa.select(api_tokens, *(c.label(f"user_{c.name}") for c in users.c))
                     .join(users, users.c.id == api_tokens.c.owner_id)
                     .where(api_tokens.c.token_hash == sa.bindparam("hash")))


class SqlUserRepository(SqlRepository):
    def add(self, user: User) -> None:
        same = [users.c.email_key == user.email_key]
        if user.email_skeleton is not None:
            same.append(users.c.email_skeleton == user.email_skeleton)
        taken = self.connection.execute(
            sa.select(users.c.email_key).where(sa.or_(*same))).first()
        if taken is not None:
            raise Conflict(f"a user with email '{user.email}' already exists"
                           if taken.email_key == user.email_key else
                           f"the email '{user.email}' looks like another user's")
        user.number = self._insert_new(users, mappers.user_row(user), "user")

    def get(self, user_id: str) -> User | None:
        row = self.connection.execute(sa.select(users).where(users.c.id == user_id)).first()
        return mappers.user_entity(row) if row is not None else None

    def get_by_email_key(self, key: str) -> User | None:
        row = self.connection.execute(
            sa.select(users).where(users.c.email_key == key)).first()
        return mappers.user_entity(row) if row is not None else None

    def get_by_email_skeleton(self, skeleton: str) -> User | None:
        row = self.connection.execute(
            sa.select(users).where(users.c.email_skeleton == skeleton)).first()
        return mappers.user_entity(row) if row is not None else None

    def update(self, user: User) -> None:
        result = self.connection.execute(users.update().where(users.c.id == user.id).values(
            full_name=user.full_name, is_active=user.is_active, is_admin=user.is_admin))
        if result.rowcount != 1:
            raise NotFound("user", user.id)


class SqlLoginFailureRepository(SqlRepository):
    def add(self, key: str, at: datetime) -> None:
        self.connection.execute(login_failures.insert().values(key=key, at=at))

    def since(self, key: str, after: datetime) -> list[datetime]:
        rows = self.connection.execute(
            sa.select(login_failures.c.at)
            .where(login_failures.c.key == key, login_failures.c.at > after)
            .order_by(login_failures.c.at))
        return [at for (at,) in rows]

    def forget(self, key: str, before: datetime | None = None) -> None:
        statement = login_failures.delete().where(login_failures.c.key == key)
        if before is not None:
            statement = statement.where(login_failures.c.at < before)
        self.connection.execute(statement)

    def discard(self, key: str, at: datetime) -> None:
        one = (sa.select(login_failures.c.number)
               .where(login_failures.c.key == key, login_failures.c.at == at)
               .limit(1).scalar_subquery())
        self.connection.execute(login_failures.delete().where(login_failures.c.number == one))

    def remember_success(self, key: str, at: datetime) -> None:
        # Two logins at once may leave two rows: the latest is the one read.
        self.connection.execute(login_successes.delete().where(login_successes.c.key == key))
        self.connection.execute(login_successes.insert().values(key=key, at=at))

    def last_success(self, key: str) -> datetime | None:
        at: datetime | None = self.connection.execute(
            sa.select(sa.func.max(login_successes.c.at))
            .where(login_successes.c.key == key)).scalar()
        return at


class SqlApiTokenRepository(SqlRepository):
    def add(self, token: ApiToken) -> None:
        if self.connection.execute(sa.select(api_tokens.c.id).where(
                api_tokens.c.token_hash == token.token_hash)).first() is not None:
            raise Conflict(f"token '{token.id}' already exists")
        self._insert_new(api_tokens, mappers.token_row(token), "token")

    def get(self, token_id: str) -> ApiToken | None:
        row = self.connection.execute(by_id(api_tokens), {"id": token_id}).first()
        return mappers.token_entity(row) if row is not None else None

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.connection.execute(
            sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash)).first()
        return mappers.token_entity(row) if row is not None else None

    def get_with_owner(self, token_hash: str) -> tuple[ApiToken, User] | None:
        row = self.connection.execute(_TOKEN_WITH_OWNER, {"hash": token_hash}).first()
        if row is None:
            return None
        return mappers.token_entity(row), mappers.user_entity(row, prefix="user_")

    def list(self, owner_id: str) -> list[ApiToken]:
        rows = self.connection.execute(
            sa.select(api_tokens).where(api_tokens.c.owner_id == owner_id)
            .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc()))
        return [mappers.token_entity(row) for row in rows]

    def update(self, token: ApiToken) -> None:
        result = self.connection.execute(
            api_tokens.update().where(api_tokens.c.id == token.id)
            .values(last_used_at=token.last_used_at, revoked_at=token.revoked_at,
                    name=token.name))
        if result.rowcount != 1:
            raise NotFound("token", token.id)
