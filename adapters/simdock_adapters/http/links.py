"""Where links to this API start, without trusting whatever Host header a caller sends.

A link in an answer (a report's ``download_url``) starts with PUBLIC_BASE_URL when it
is set. Otherwise it starts with the request's own scheme and host only when that
host is one this server is known to answer to: a loopback name, the HOST it binds
to, or a name in TRUSTED_HOSTS. Any other host gets a link relative to the host the
caller used (``/api/v1/...``), never one that points at a host an attacker chose.
"""

from __future__ import annotations

import re

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
HOST_HEADER = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::[0-9]{1,5})?")


class LinkBase:
    """The start of the links in answers, decided from the settings once per app."""

    def __init__(self, public_base_url: str | None, bind_host: str,
                 trusted_hosts: frozenset[str] = frozenset()) -> None:
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        bound = {bind_host.lower().strip("[]")} - WILDCARD_BINDS
        self.trusted_hosts = LOOPBACK_NAMES | bound | {h.lower() for h in trusted_hosts}

    def for_request(self, host_url: str, host: str) -> str:
        """The start of absolute links (no trailing slash), or "" for relative ones.

        ``host_url`` and ``host`` are the request's (``http://name:port/`` and its
        ``name:port``).
        """
        if self.public_base_url:
            return self.public_base_url
        if hostname(host) in self.trusted_hosts:
            return host_url.rstrip("/")
        return ""


def hostname(host: str) -> str | None:
    """The name in a Host header (lower case, no port or brackets); None unless the
    header is exactly a name or address and an optional port."""
    match = HOST_HEADER.fullmatch(host)
    if match is None:
        return None
    return (match["v6"] or match["name"]).lower()
