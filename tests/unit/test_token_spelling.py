"""A sealed token opens only as it was issued: no other spelling of the same bytes.

Base64 has many spellings of one byte string: padding added, the standard
alphabet's ``+`` and ``/`` for ``-`` and ``_``, characters a lenient decoder skips,
and a last character whose unused low bits differ. A link is a credential, so only
the spelling the server issued opens it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simdock_adapters.http.downloads import DownloadLinks
from simdock_adapters.http.sealed import SealedTokens
from tests.spellings import other_spellings

SECRET = "unit-secret-key-0123456789-abcdefghijklmnop"


@pytest.mark.parametrize("values", [["r"], ["rp"], ["rpt"], ["report-1", "usr-1", 12345]])
def test_only_the_issued_spelling_opens(values: list[object]) -> None:
    tokens = SealedTokens(SECRET, b"unit test")
    token = tokens.seal(values)
    assert tokens.open(token) == values
    spellings = other_spellings(token)
    assert {"padding", "skipped characters"} <= set(spellings)
    assert ("standard alphabet" in spellings) == bool({"-", "_"} & set(token))
    assert ("unused bits" in spellings) == (len(token) % 4 != 0)
    opened = [v for kind in spellings.values() for v in kind if tokens.open(v) is not None]
    assert opened == []


def test_the_lengths_cover_every_last_group() -> None:
    """The cases above include tokens whose last character has unused bits."""
    tokens = SealedTokens(SECRET, b"unit test")
    assert {len(tokens.seal(v)) % 4 for v in (["r"], ["rp"], ["rpt"])} >= {2, 3}


def test_a_download_link_in_another_spelling_is_unknown() -> None:
    links = DownloadLinks(SECRET, 900)
    token, _ = links.grant("rep-1", "usr-1", datetime.now(UTC))
    assert links.open(token, datetime.now(UTC)).report_id == "rep-1"
    for variant in [v for kind in other_spellings(token).values() for v in kind]:
        with pytest.raises(Exception, match="not found"):
            links.open(variant, datetime.now(UTC))
