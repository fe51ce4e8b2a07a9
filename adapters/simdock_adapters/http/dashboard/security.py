"""What every dashboard answer and action is held to: its headers, its origin, its CSRF token.

- Every answer forbids inline script and style, framing, and sniffing, and is not
  cached (the pages show a user's own work).
- An action (any method but GET and HEAD) from another origin is refused, whatever it
  carries; an action of a session must carry that session's CSRF token. Signing in is
  the one action without a session, and is held to its origin only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, request

from simdock.errors import UnauthorizedOperation
from simdock_adapters.http.dashboard import sessions

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'", "script-src 'self'", "style-src 'self'",
    "img-src 'self' data: blob:", "connect-src 'self'", "font-src 'self'",
    "frame-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"])
HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
           "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
#: The action that needs no session (the CSRF token comes with the session it makes).
WITHOUT_SESSION = frozenset({"/ui/sign-in"})


def protect(response: Response) -> Response:
    """Set the dashboard's headers on one of its answers."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def check_action() -> None:
    """Refuse an action from another origin, or of a session without its CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not same_origin():
        raise UnauthorizedOperation("an action from another site is refused")
    if request.path in WITHOUT_SESSION:
        return
    if not sessions.csrf_holds():
        raise UnauthorizedOperation("this form has expired or did not come from this site: "
                                    "reload the page and try again")


def same_origin() -> bool:
    """Whether the browser says the request comes from this site (or says nothing)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")
