"""Access tokens as JWTs signed with SECRET_KEY, HS256 only."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

from simdock.errors import AuthenticationFailure

ALGORITHM = "HS256"
ISSUER = "simdock"


class JwtAccessTokens:
    """Issues and verifies short-lived access tokens.

    The algorithm is pinned: a token whose header names another one (``none``
    included) is refused, as is one signed with another key or past its expiry
    by the platform's clock.
    """

    def __init__(self, secret_key: str, lifetime: timedelta) -> None:
        self._key = secret_key
        self._lifetime = lifetime

    def issue(self, user_id: str, now: datetime) -> tuple[str, datetime]:
        expires_at = now + self._lifetime
        claims = {"sub": user_id, "iat": int(now.timestamp()), "exp": int(expires_at.timestamp()),
                  "iss": ISSUER, "typ": "access"}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM), expires_at

    def verify(self, token: str, now: datetime) -> str:
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"require": ["sub", "exp", "iat", "iss"],
                                         "verify_exp": False})
        except jwt.InvalidTokenError as exc:
            raise AuthenticationFailure(f"invalid access token: {exc}") from None
        if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
            raise AuthenticationFailure("invalid access token: not an access token")
        if now.timestamp() >= float(claims["exp"]):
            raise AuthenticationFailure("the access token has expired")
        return str(claims["sub"])
