"""Text that can be stored: no NUL characters, on any backend.

PostgreSQL refuses U+0000 in text and in JSONB, SQLite keeps it: so simdock
refuses it in everything a caller gives (names, tags, parameters, filters),
and replaces it in what a running simulation emits (log lines, errors),
which must be kept rather than refused.
"""

from __future__ import annotations

from simdock.errors import ValidationError

NUL = "\x00"
REPLACEMENT = "\ufffd"
#: The characters Python counts as white space (``str.isspace``, what ``strip`` removes), as
#: a regular-expression class that reads the same in Python, JSON Schema and Rust engines.
BLANK = r"\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: A pattern a text matches when it is not only white space.
NOT_BLANK = f"[^{BLANK}]"


def check_text(value: str, what: str) -> str:
    """``value`` if it holds no NUL character, else a ValidationError naming ``what``."""
    if NUL in value:
        raise ValidationError(f"{what} holds a NUL character (\\u0000), which cannot be stored")
    return value


def storable(text: str) -> str:
    """``text`` with any NUL character replaced by U+FFFD, for text that must be kept."""
    return text.replace(NUL, REPLACEMENT) if NUL in text else text


def may_name_something(identifier: object) -> bool:
    """Whether ``identifier`` could be the id of something stored (ids never hold NUL)."""
    return isinstance(identifier, str) and NUL not in identifier
