"""Text as it may be logged or answered: without the credentials a request carried.

A credential reaches the server in a few places, and a log line or an error
message quoting the request would show it: a link's path segment
(``/api/v1/downloads/<token>``, ``/files/<token>``), a query parameter
(``?token=`` of the WebSocket route, a pre-signed URL's signature), a header
(``Authorization``, ``Offline-Token``, ``Cookie``), or a token on its own
(``sdk_...`` API tokens, JWTs, ``Bearer ...``). :func:`redact` replaces each of
them, wherever it appears in a text, with a placeholder that still says what
was there. Every log line (``simdock_adapters.logs``) and every error answer
the HTTP server writes goes through it.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

#: Path segments that are links' credentials: shown as the route's placeholder.
_LINK_SEGMENT = re.compile(
    r"(?P<route>/api/v1/downloads/|(?<![\w.\-/])(?:[A-Za-z][A-Za-z0-9+.-]*://[^/\s'\"]+)?/files/)"
    r"[^/?#\s'\"]+")

#: Query parameters that carry a credential, in this API (``token`` of the WebSocket
#: route) or in the pre-signed links of blob stores.
CREDENTIAL_PARAMETERS = (
    "token", "access_token", "refresh_token", "id_token", "api_key", "apikey", "api_token",
    "password", "passwd", "secret", "client_secret", "signature", "sig",
    "x-amz-signature", "x-amz-security-token", "x-amz-credential", "x-goog-signature",
    "x-goog-credential")
_QUERY_VALUE = re.compile(
    r"(?P<head>[?&;](?:" + "|".join(re.escape(p) for p in CREDENTIAL_PARAMETERS) + r")=)"
    r"[^&;#\s'\"]*", re.IGNORECASE)

#: Headers that carry a credential, as a header line or a mapping would show them.
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "offline-token", "cookie",
                      "set-cookie", "x-api-key", "x-auth-token")
_HEADER_VALUE = re.compile(
    r"(?P<head>(?:" + "|".join(re.escape(h) for h in CREDENTIAL_HEADERS) + r")['\"]?\s*"
    r"[:=]\s*['\"]?)[^\r\n'\"]+", re.IGNORECASE)

#: Credentials recognisable by their shape wherever they are.
_API_TOKEN = re.compile(r"sdk_[A-Za-z0-9_\-]{4,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_BEARER = re.compile(r"(?P<head>\bBearer\s+)[^\s'\",;]+", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'\"]*:)[^@\s/'\"]+@")


def redact(text: str) -> str:
    """``text`` with every credential it quotes replaced (``<token>`` in a link's path,
    ``***`` elsewhere); text without one is returned unchanged.

    ``text`` is plain text, not yet escaped into JSON or another syntax: redact the
    values of a document (:func:`redact_values`), then encode it.
    """
    text = _LINK_SEGMENT.sub(lambda m: f"{m['route']}<token>", text)
    text = _QUERY_VALUE.sub(lambda m: f"{m['head']}{MASK}", text)
    text = _HEADER_VALUE.sub(lambda m: f"{m['head']}{MASK}", text)
    text = _BEARER.sub(lambda m: f"{m['head']}{MASK}", text)
    text = _API_TOKEN.sub(f"sdk_{MASK}", text)
    text = _JWT.sub(MASK, text)
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)


def redact_values(value: Any) -> Any:
    """``value`` (a JSON-like document) with :func:`redact` applied to every string in it,
    keys included."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_values(k): redact_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_values(item) for item in value]
    return value
