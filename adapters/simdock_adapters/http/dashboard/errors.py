"""The dashboard's errors: a page in its layout, or the sign-in page when no one is signed in.

Installed by the app factory for the dashboard's dialect (``/ui``), so that the same
domain errors the API answers as JSON (:mod:`simdock_adapters.http.errors`, by the same
status table) are pages here: a 404 for another user's job, a 400 that names the filter
that was wrong. A request that needs a session and has none, or one that ended, is sent
to sign in (htmx requests by ``HX-Redirect``, so a polled table does not swap in a form).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from flask import Response, g, redirect, render_template, request

from simdock.errors import AuthenticationFailure, SimdockError
from simdock_adapters.http.errors import INTERNAL_ERROR_MESSAGE, log_detail, status_of

log = logging.getLogger("simdock.dashboard")

TITLES = {400: "That request was not understood", 403: "Not allowed",
          404: "Not found", 405: "Not allowed here", 409: "Not possible now",
          413: "Too large", 429: "Too many requests", 503: "Unavailable for a moment"}
#: What to do next, by status.
NEXT_STEPS = {400: "Check the address or the form, then try again.",
              403: "Reload the page and try again from it.",
              404: "It may have been deleted, or belong to someone else.",
              409: "Reload the page to see where things stand.",
              429: "Wait a moment before trying again.",
              503: "Try again in a moment."}


def domain_error(error: SimdockError) -> Response:
    if isinstance(error, AuthenticationFailure):
        return to_sign_in()
    log_detail(error)
    return page(status_of(error), error.message)


def description(status: int, text: str) -> Response:
    if status == 404:
        text = "There is no page at this address."
    return page(status, text)


def unexpected(error: Exception) -> Response:
    log.exception("unhandled error on dashboard request %s", g.get("request_id", ""),
                  exc_info=error)
    return page(500, INTERNAL_ERROR_MESSAGE)


def page(status: int, message: str) -> Response:
    """An error page in the dashboard's layout."""
    html = render_template("dashboard/error.html", status=status,
                           title=TITLES.get(status, "Something went wrong"),
                           message=message, next_step=NEXT_STEPS.get(status, ""),
                           request_id=g.get("request_id", ""), user=g.get("viewer"))
    return Response(html, status=status, mimetype="text/html")


def to_sign_in() -> Response:
    """Send the browser to the sign-in page, to come back here afterwards."""
    back = request.full_path.rstrip("?") if request.method == "GET" else "/ui/jobs"
    target = f"/ui/sign-in?next={quote(back, safe='')}"
    if request.headers.get("HX-Request"):
        response = Response(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)  # type: ignore[return-value]
