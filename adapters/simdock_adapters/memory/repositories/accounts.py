"""Accounts in memory: users, API tokens, failed and successful logins."""

from __future__ import annotations

from datetime import datetime

from simdock.domain import ApiToken, User
from simdock.errors import Conflict, NotFound
from simdock_adapters.memory.repositories.base import MemoryRepository, clone


class MemoryUserRepository(MemoryRepository):
    def add(self, user: User) -> None:
        if user.id in self.store.users:
            raise Conflict(f"user '{user.id}' already exists")
        if user.email_key in self.store.users_by_email:
            raise Conflict(f"a user with email '{user.email}' already exists")
        if user.email_skeleton in self.store.users_by_skeleton:
            raise Conflict(f"the email '{user.email}' looks like another user's")
        user.number = self.store.next_number("user")
        self._put(self.store.users, user.id, clone(user))
        self._put(self.store.users_by_email, user.email_key, user.id)
        if user.email_skeleton is not None:
            self._put(self.store.users_by_skeleton, user.email_skeleton, user.id)

    def get(self, user_id: str) -> User | None:
        user = self.store.users.get(user_id)
        return clone(user) if user else None

    def get_by_email_key(self, key: str) -> User | None:
        user_id = self.store.users_by_email.get(key)
        return self.get(user_id) if user_id else None

    def get_by_email_skeleton(self, skeleton: str) -> User | None:
        user_id = self.store.users_by_skeleton.get(skeleton)
        return self.get(user_id) if user_id else None

    def update(self, user: User) -> None:
        if user.id not in self.store.users:
            raise NotFound("user", user.id)
        self._put(self.store.users, user.id, clone(user))


class MemoryLoginFailureRepository(MemoryRepository):
    def add(self, key: str, at: datetime) -> None:
        self._put(self.store.login_failures, key, [*self.store.login_failures[key], at])

    def since(self, key: str, after: datetime) -> list[datetime]:
        return sorted(at for at in self.store.login_failures.get(key, []) if at > after)

    def forget(self, key: str, before: datetime | None = None) -> None:
        kept = [] if before is None else [
            at for at in self.store.login_failures.get(key, []) if at >= before]
        self._put(self.store.login_failures, key, kept)

    def discard(self, key: str, at: datetime) -> None:
        kept = list(self.store.login_failures.get(key, []))
        if at in kept:
            kept.remove(at)
            self._put(self.store.login_failures, key, kept)

    def remember_success(self, key: str, at: datetime) -> None:
        self._put(self.store.login_successes, key, at)

    def last_success(self, key: str) -> datetime | None:
        return self.store.login_successes.get(key)


class MemoryApiTokenRepository(MemoryRepository):
    def add(self, token: ApiToken) -> None:
        if token.id in self.store.tokens or token.token_hash in self.store.tokens_by_hash:
            raise Conflict(f"token '{token.id}' already exists")
        self._put(self.store.tokens, token.id, clone(token))
        self._put(self.store.tokens_by_hash, token.token_hash, token.id)

    def get(self, token_id: str) -> ApiToken | None:
        token = self.store.tokens.get(token_id)
        return clone(token) if token else None

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        token_id = self.store.tokens_by_hash.get(token_hash)
        return self.get(token_id) if token_id else None

    def get_with_owner(self, token_hash: str) -> tuple[ApiToken, User] | None:
        token = self.get_by_hash(token_hash)
        owner = self.store.users.get(token.owner_id) if token is not None else None
        return (token, clone(owner)) if token is not None and owner is not None else None

    def list(self, owner_id: str) -> list[ApiToken]:
        tokens = [t for t in self.store.tokens.values() if t.owner_id == owner_id]
        return [clone(t) for t in sorted(tokens, key=lambda t: (t.created_at, t.id),
                                          reverse=True)]

    def update(self, token: ApiToken) -> None:
        if token.id not in self.store.tokens:
            raise NotFound("token", token.id)
        self._put(self.store.tokens, token.id, clone(token))
