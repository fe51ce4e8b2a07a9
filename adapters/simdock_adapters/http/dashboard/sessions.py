"""Who is signed in to the dashboard: a session cookie holding an access token.

Signing in is ``Auth.login`` (the same accounts, throttling and token as
``POST /api/v1/auth/login``); the cookie holds the access token it grants, so a
session ends when that token expires and a deactivated user is refused at once,
as on the API. The cookie is HttpOnly and SameSite=Lax, and Secure when the page
was served over TLS.

Every action (a POST) carries a CSRF token: an HMAC of the session's access token
under the server's secret key, so it needs no state of its own and is worth
nothing without the cookie it belongs to (and nothing once that session ends).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from flask import Response, g, request

from simdock.domain import User
from simdock.errors import AuthenticationFailure
from simdock.usecases.auth import AccessGrant
from simdock_adapters.http.context import context, platform

COOKIE = "simdock_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInNeeded(AuthenticationFailure):
    """No session, or one that no longer holds: the browser is sent to sign in."""


def start(response: Response, grant: AccessGrant) -> Response:
    """Set the session cookie of ``grant`` on ``response``."""
    lifetime = max(0, int((grant.expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(COOKIE, grant.access_token, max_age=lifetime, path="/ui",
                        httponly=True, samesite="Lax", secure=request.is_secure)
    return response


def end(response: Response) -> Response:
    """Clear the session cookie on ``response``."""
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="Lax",
                           secure=request.is_secure)
    return response


def viewer() -> User:
    """The signed-in user of this request, or :class:`SignInNeeded`."""
    user: User | None = g.get("viewer")
    if user is not None:
        return user
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInNeeded("sign in to see this page")
    try:
        user = platform().auth.authenticate(token)
    except AuthenticationFailure:
        raise SignInNeeded("your session has ended: sign in again") from None
    g.viewer = user
    return user


def owner_filter(user: User) -> str | None:
    """Whose work ``user`` sees: their own, or everyone's for an administrator."""
    return None if user.is_admin else user.id


def csrf_token() -> str:
    """The CSRF token of this request's session ("" without one)."""
    token = request.cookies.get(COOKIE)
    return _csrf_of(token) if token else ""


def csrf_holds() -> bool:
    """Whether this request carries its session's CSRF token (form field or header)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return False
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return hmac.compare_digest(given.encode(), _csrf_of(token).encode())


def _csrf_of(token: str) -> str:
    key = context().settings.secret_key.encode()
    return hmac.new(key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()
