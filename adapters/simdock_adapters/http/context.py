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
from simdock.scope import Scope
from simdock.usecases.auth import authenticate
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
    """The platform of this request: its use cases share one unit of work."""
    scope: Scope | None = g.get("scope")
    if scope is None:
        scope = g.scope = Scope(context().platform,
                                reading=request.method in ("GET", "HEAD", "OPTIONS"))
    return scope.platform


def end_scope(_error: BaseException | None = None) -> None:
    scope: Scope | None = g.pop("scope", None)
    if scope is not None:
        scope.end()


def link_base() -> str:
    """Where absolute links in this request's answers start ("" for relative links)."""
    return context().links.for_request(request.host_url, request.host)


def shared_platform() -> Platform:
    """The application's platform, for work that outlives the request (streams)."""
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
    user = authenticate(credential, platform())
    g.user = user
    return user
