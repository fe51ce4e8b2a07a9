"""Registration, login (OAuth2 form or JSON), the current user, and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from simdock.domain import ApiToken, User, identity
from simdock.errors import ValidationError
from simdock.usecases import auth
from simdock_adapters.http.api import Api
from simdock_adapters.http.context import current_user, platform
from simdock_adapters.http.schemas import WHOLE, Name, PageOf

Strict = ConfigDict(extra="forbid")


def readable_email(email: str) -> str:
    """The core's rule for a new address, as a schema check (422 naming the problem)."""
    try:
        return identity.check_email(email)
    except ValidationError as refused:
        raise ValueError(refused.message) from None


class Registration(BaseModel):
    model_config = Strict
    email: Annotated[str, AfterValidator(readable_email)] = Field(
        max_length=320, pattern=auth.EMAIL.pattern, examples=["user@example.com"],
        description="An address no other account has in any spelling, nor one that looks "
                    "like it; invisible and bidirectional control characters are refused")
    password: str = Field(min_length=auth.MIN_PASSWORD, max_length=auth.MAX_PASSWORD)
    full_name: str | None = Field(None, max_length=200)


class UserOut(BaseModel):
    """A user, without credentials."""

    id: str
    email: str
    full_name: str | None
    is_active: bool
    is_admin: bool = Field(description="Administrators may change any machine")
    created_at: datetime


class LoginJson(BaseModel):
    """JSON login: ``email`` (or ``username``) and ``password``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["email"], "properties": {"email": {"type": "string", "minLength": 1}}},
        {"required": ["username"],
         "properties": {"username": {"type": "string", "minLength": 1}}}]})
    email: str | None = Field(None, max_length=320)
    username: str | None = Field(None, max_length=320)
    password: str = Field(max_length=auth.MAX_PASSWORD)

    @model_validator(mode="after")
    def needs_a_name(self) -> LoginJson:
        if not (self.email or self.username):
            raise ValueError("send email (or username) and password")
        return self

    @property
    def login_name(self) -> str:
        return self.email or self.username or ""


class LoginForm(BaseModel):
    """The OAuth2 password form: ``username=...&password=...``."""

    model_config = ConfigDict(extra="ignore")
    username: str = Field(max_length=320)
    password: str = Field(max_length=auth.MAX_PASSWORD)
    grant_type: str | None = None
    scope: str | None = None

    @property
    def login_name(self) -> str:
        return self.username


class AccessTokenOut(BaseModel):
    """A bearer access token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")
    expires_at: datetime


class NewApiToken(BaseModel):
    model_config = Strict
    name: Name
    expires_in_days: Annotated[int, Field(ge=1, le=3650), WHOLE] | None = None


class ApiTokenOut(BaseModel):
    """An API token's record (its secret is never shown again)."""

    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedApiToken(ApiTokenOut):
    """A new API token, with its secret: shown this once."""

    token: str


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, full_name=user.full_name,
                   is_active=user.is_active, is_admin=user.is_admin, created_at=user.created_at)


def token_out(token: ApiToken) -> ApiTokenOut:
    return ApiTokenOut(id=token.id, name=token.name, prefix=token.prefix,
                       created_at=token.created_at, expires_at=token.expires_at,
                       last_used_at=token.last_used_at, revoked_at=token.revoked_at)


def register(api: Api) -> Blueprint:
    bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")
    tags = ["auth"]

    @api.operation(bp, "/register", "POST", auth=False, tags=tags, body=Registration,
                   responses={201: UserOut})
    def register_user(body: Registration) -> UserOut:
        """Register a new user."""
        user = platform().auth.register_user(
            auth.RegisterUser(body.email, body.password, body.full_name))
        return user_out(user)

    @api.operation(bp, "/login", "POST", auth=False, tags=tags, body=LoginJson, form=LoginForm,
                   responses={200: AccessTokenOut}, errors=frozenset({401, 429}))
    def login(body: LoginJson | LoginForm) -> AccessTokenOut:
        """Log in with email and password; returns a bearer access token.

        Accepts the OAuth2 password form (``username=...&password=...``) or JSON; the
        address may be spelled in any equivalent way (case, width, composition).
        After repeated failures, further attempts are answered 429 with Retry-After
        (the README's "Login is throttled" states the rules).
        """
        grant = platform().auth.login(body.login_name, body.password, request.remote_addr)
        now = platform().clock.now()
        return AccessTokenOut(access_token=grant.access_token,
                              expires_in=max(0, int((grant.expires_at - now).total_seconds())),
                              expires_at=grant.expires_at)

    @api.operation(bp, "/me", "GET", tags=tags, authenticate=current_user,
                   responses={200: UserOut})
    def me(user: User) -> UserOut:
        """The authenticated user."""
        return user_out(user)

    @api.operation(bp, "/tokens", "POST", tags=tags, authenticate=current_user, body=NewApiToken,
                   responses={201: CreatedApiToken})
    def create_token(user: User, body: NewApiToken) -> CreatedApiToken:
        """Create a long-lived API token; its secret is returned this once."""
        token, secret = platform().auth.create_api_token(user.id, body.name, body.expires_in_days)
        return CreatedApiToken(**token_out(token).model_dump(), token=secret)

    @api.operation(bp, "/tokens", "GET", tags=tags, authenticate=current_user,
                   responses={200: PageOf[ApiTokenOut]})
    def list_tokens(user: User) -> PageOf[ApiTokenOut]:
        """Your API tokens, newest first, without their secrets."""
        tokens = [token_out(t) for t in platform().auth.list_api_tokens(user.id)]
        return PageOf[ApiTokenOut](items=tokens, total=len(tokens), page=1,
                                   page_size=max(1, len(tokens)), total_pages=1 if tokens else 0)

    @api.operation(bp, "/tokens/<token_id>", "DELETE", tags=tags, authenticate=current_user,
                   responses={200: ApiTokenOut})
    def revoke_token(user: User, token_id: str) -> ApiTokenOut:
        """Revoke one of your API tokens."""
        return token_out(platform().auth.revoke_api_token(token_id, user.id))

    return bp
