"""URLs as they may be shown (printed, logged, in a repr): without their credentials.

Every place that shows a database URL, or any other URL that may hold a password,
shows ``masked_url(url)``. It never fails: a URL it cannot make sense of is still
masked wherever something looks like a password, at the price of sometimes masking
a little more than the password.
"""

from __future__ import annotations

import re

MASK = "***"

# ?password=... and the like in the query (libpq reads its password there too).
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|pass|secret|token|api_key|sslpassword)=)"
    r"[^&;#]*", re.IGNORECASE)


def masked_url(url: str) -> str:
    """``url`` with each password it holds replaced by ``***``."""
    return _QUERY_SECRET.sub(lambda m: f"{m['head']}{MASK}", _masked_userinfo(url))


def _masked_userinfo(url: str) -> str:
    """Mask the password of ``[scheme://]user:password@host...``.

    The password runs to the last "@" before the query, so that an "@" left
    unescaped in it is masked too; failing that, to the first "@" at all.
    """
    scheme = url.find("://")
    start = scheme + 3 if scheme >= 0 else 0
    user = re.match(r"[^:/?#@]*:", url[start:])
    if user is None:
        return url
    password_start = start + user.end()
    rest = url[password_start:]
    query = re.search(r"[?#]", rest)
    end = rest.rfind("@", 0, query.start() if query else len(rest))
    if end < 0:
        end = rest.find("@")
    if end < 0:
        return url
    return f"{url[:password_start]}{MASK}{rest[end:]}"
