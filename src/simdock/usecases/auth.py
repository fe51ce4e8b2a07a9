"""Users and their credentials: registration, login, API tokens, authentication."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from simdock.credentials import CredentialCache
from simdock.domain import ApiToken, User, identity
from simdock.domain.text import check_text
from simdock.errors import AuthenticationFailure, ServiceUnavailable, ValidationError
from simdock.limits import Limits
from simdock.passwords import hash_password, verify_password
from simdock.ports import AccessTokens, Clock, IdGenerator
from simdock.scope import UnitsOfWork
from simdock.usecases import login_guard
from simdock.usecases.access import named, visible
from simdock.usecases.users import add_user, find_user

#: The shape of an email address (also what the HTTP schemas document).
EMAIL = identity.EMAIL
MIN_PASSWORD, MAX_PASSWORD = 8, 256
TOKEN_PREFIX = "sdk_"
#: Recording every use of a token would make each request write; once a minute is enough.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="


@dataclass(frozen=True)
class RegisterUser:
    email: str
    password: str
    full_name: str | None = None


@dataclass(frozen=True)
class AccessGrant:
    """A signed access token and when it stops working."""

    user: User
    access_token: str
    expires_at: datetime


@dataclass(frozen=True)
class Auth:
    """Accounts and credentials: registering, logging in, authenticating, API tokens."""

    uow: UnitsOfWork
    access_tokens: AccessTokens | None
    clock: Clock
    credentials: CredentialCache
    ids: IdGenerator
    limits: Limits

    def register_user(self, cmd: RegisterUser) -> User:
        """Create a user with a hashed password.

        The address must be one a person can read as it is (ValidationError naming what
        is wrong: :func:`simdock.domain.identity.check_email`); Conflict if it names an
        existing account in any spelling, or looks like an existing account's.
        """
        email = identity.check_email(cmd.email)
        if not isinstance(cmd.password, str) \
                or not MIN_PASSWORD <= len(cmd.password) <= MAX_PASSWORD:
            raise ValidationError(
                f"a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        if cmd.full_name is not None and (not isinstance(cmd.full_name, str)
                                          or len(check_text(cmd.full_name, "full_name")) > 200):
            raise ValidationError("full_name must be a string of at most 200 characters")
        user = User(self.ids.new("usr"), email, self.clock.now(), cmd.full_name,
                    hash_password(cmd.password))
        with self.uow() as uow:
            add_user(uow, user)
            uow.commit()
        return user

    def login(self, email: str, password: str, client: str | None = None
              ) -> AccessGrant:
        """An access token for the user with these credentials.

        The account is found by its address in any equivalent spelling
        (:func:`simdock.usecases.users.find_user`). Unknown emails and wrong passwords
        get the same error and take the same time, so a caller cannot learn which
        emails are registered. Failed logins slow further attempts down by account,
        client address and both together (:mod:`simdock.usecases.login_guard`).
        """
        now = self.clock.now()
        attempt = login_guard.LoginAttempt.of(email, client)
        with self.uow() as uow:
            counted = login_guard.admit(uow, attempt, now, self.limits.login)
            user = find_user(uow, email)
            uow.commit()
        if not verify_password(password if isinstance(password, str) else "",
                               user.password_hash if user else _DUMMY_HASH) \
                or user is None or not user.is_active:
            raise AuthenticationFailure("incorrect email or password")
        with self.uow() as uow:
            login_guard.succeeded(uow, attempt, counted, now)
            uow.commit()
        token, expires_at = self._access_tokens().issue(user.id, now)
        return AccessGrant(user, token, expires_at)

    def authenticate(self, credential: str) -> User:
        """The active user a bearer credential (access token or API token) belongs to.

        Who presented a credential is remembered for a few seconds
        (``self.credentials``), so a client polling a run is not looked up in
        the store on every request; an access token's signature and expiry are
        checked every time.
        """
        if not credential:
            raise AuthenticationFailure("missing credentials")
        now = self.clock.now()
        if credential.startswith(TOKEN_PREFIX):
            key = token_hash(credential)
            return self.credentials.get(key) or self._authenticate_api_token(key, now)
        user_id = self._access_tokens().verify(credential, now)
        key = f"user:{user_id}"
        user = self.credentials.get(key)
        if user is not None:
            return user
        with self.uow() as uow:
            user = uow.users.get(user_id)
        if user is None or not user.is_active:
            raise AuthenticationFailure("the user of this token no longer exists")
        self.credentials.put(key, user)
        return user

    def _authenticate_api_token(self, key: str, now: datetime) -> User:
        with self.uow() as uow:
            found = uow.tokens.get_with_owner(key)
            if found is None or not found[0].usable(now):
                raise AuthenticationFailure("invalid, expired or revoked API token")
            token, user = found
            if not user.is_active:
                raise AuthenticationFailure("the user of this token no longer exists")
            if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
                token.last_used_at = now
                uow.tokens.update(token)
                uow.commit()
        left = (token.expires_at - now).total_seconds() if token.expires_at else None
        self.credentials.put(key, user, left)
        return user

    def create_api_token(self, owner_id: str, name: str,
                         expires_in_days: int | None = None) -> tuple[ApiToken, str]:
        """A new token and its secret; the secret is shown this once and stored only hashed."""
        if not isinstance(name, str) or not check_text(name, "a token name").strip() \
                or len(name) > 200:
            raise ValidationError(
                "a token name must be a non-empty string of at most 200 characters")
        if expires_in_days is not None and (isinstance(expires_in_days, bool)
                                            or not isinstance(expires_in_days, int)
                                            or not 1 <= expires_in_days <= 3650):
            raise ValidationError("expires_in_days must be an integer from 1 to 3650")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock.now()
        token = ApiToken(self.ids.new("tok"), owner_id, name.strip(), token_hash(secret),
                         secret[:len(TOKEN_PREFIX) + 6], now,
                         now + timedelta(days=expires_in_days) if expires_in_days else None)
        with self.uow() as uow:
            uow.tokens.add(token)
            uow.commit()
        return token, secret

    def list_api_tokens(self, owner_id: str) -> list[ApiToken]:
        with self.uow() as uow:
            return uow.tokens.list(owner_id)

    def revoke_api_token(self, token_id: str, owner_id: str) -> ApiToken:
        """Revoke one of the owner's tokens (revoking twice is harmless)."""
        with self.uow() as uow:
            token = visible(uow.tokens.get(named(token_id, "token")), owner_id, "token", token_id)
            if token.revoked_at is None:
                token.revoked_at = self.clock.now()
                uow.tokens.update(token)
                uow.commit()
        self.credentials.forget(token.token_hash)
        return token

    def _access_tokens(self) -> AccessTokens:
        if self.access_tokens is None:
            raise ServiceUnavailable("this platform issues no access tokens (no SECRET_KEY set)")
        return self.access_tokens


def token_hash(secret: str) -> str:
    """How a token secret is stored: SHA-256 suffices for 256 random bits."""
    return hashlib.sha256(secret.encode()).hexdigest()
