"""A browser's session with the dashboard, over HTTP: signing in, reading pages, posting forms."""

from __future__ import annotations

import re
from typing import Any

import requests

from tests.e2e.helpers import User

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def signed_in(user: User) -> requests.Session:
    """A session of ``user`` signed in through the sign-in form, as a browser does."""
    session = requests.Session()
    response = session.post(f"{user.base_url}/ui/sign-in",
                            data={"email": user.email, "password": user.password},
                            allow_redirects=False)
    assert response.status_code == 303, response.text
    return session


def csrf_of(session: requests.Session, base_url: str) -> str:
    """The CSRF token the session's pages carry."""
    found = CSRF.search(session.get(f"{base_url}/ui/tokens").text)
    assert found is not None
    return found.group(1)


def act(session: requests.Session, base_url: str, path: str, **form: Any
        ) -> requests.Response:
    """Post a form of a page, with the session's CSRF token, from the page's own origin."""
    return session.post(f"{base_url}{path}", data={"csrf_token": csrf_of(session, base_url),
                                                   **form},
                        headers={"Origin": base_url}, allow_redirects=False)
