"""What a request needs from the application: its platform, its user, its id."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from flask import current_app, g, request

from simdock.domain import User
from simdock.domain.text import check_text
from simdock.errors import AuthenticationFailure
from simdock.platform import Platform
from simdock_adapters.http.api import Api
from simdock_adapters.http.blob_links import BlobLinks
from simdock_adapters.http.downloads import DownloadLinks
from simdock_adapters.http.links import LinkBase
from simdock_adapters.http.slots import StreamSlots
from simdock_adapters.settings import Settings

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass
class ApiContext:
    """Held in ``app.extensions["simdock"]``: built once per app, shared by requests."""

    platform: Platform
    settings: Settings
    api: Api
    downloads: DownloadLinks
    streams: StreamSlots
    links: LinkBase
    blob_links: BlobLinks


def context() -> ApiContext:
    return current_app.extensions["simdock"]  # type: ignore[no-any-return]


def platform() -> Platform:
    """The platform, its use cases sharing this request's one unit of work."""
    shared = context().platform
    if "scope" not in g:
        g.scope = shared.units.begin(reading=request.method in ("GET", "HEAD", "OPTIONS"))
    return shared


def end_scope(_error: BaseException | None = None) -> None:
    token = g.pop("scope", None)
    if token is not None:
        context().platform.units.end(token)


def link_base() -> str:
    """Where absolute links in this request's answers start ("" for relative links)."""
    return context().links.for_request(request.host_url, request.host)


def shared_platform() -> Platform:
    """The platform for work that outlives the request (streams): this request's scope,
    if it began one, ends first, so that such work opens units of work of its own."""
    end_scope()
    return context().platform


def refuse_nul_in_target() -> None:
    """A NUL in the path or the query names nothing and can be stored nowhere: 400."""
    check_text(request.path, "the request path")
    for name, value in request.args.items(multi=True):
        check_text(name, "a query parameter's name")
        check_text(value, f"query parameter '{name}'")


def assign_request_id() -> None:
    """Use the caller's X-Request-ID when it is sane, else make one."""
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex


def bearer_credential() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    return None


def current_user() -> User:
    """The authenticated user of this request, or AuthenticationFailure (HTTP 401)."""
    user: User | None = g.get("user")
    if user is not None:
        return user
    credential = bearer_credential()
    if credential is None:
        raise AuthenticationFailure("authentication required: send Authorization: Bearer <token>")
    user = platform().auth.authenticate(credential)
    g.user = user
    return user
