"""Other spellings of a base64 token's bytes, for tests that links open only as issued."""

from __future__ import annotations

import base64

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def lenient(token: str) -> bytes | None:
    """The bytes a lenient decoder reads from ``token`` (padding made up, junk skipped)."""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None


def other_spellings(token: str) -> dict[str, list[str]]:
    """Other spellings of ``token``'s bytes, by kind; each is checked to be read as the
    same bytes by a lenient decoder."""
    unused = {2: 4, 3: 2}.get(len(token) % 4, 0)  # low bits the last character does not use
    value = ALPHABET.index(token[-1])
    kinds = {
        "padding": [token + "=" * n for n in (1, 2, 3, 4)],
        "standard alphabet": [token.replace("-", "+").replace("_", "/")],
        "skipped characters": [token[:3] + junk * 4 + token[3:]
                               for junk in (".", "~", "!", "*", "$", "'", " ", "\n")],
        "unused bits": [token[:-1] + ALPHABET[v] for v in range(64)
                        if v != value and v >> unused == value >> unused],
    }
    same = {kind: [v for v in variants if v != token and lenient(v) == lenient(token)]
            for kind, variants in kinds.items()}
    return {kind: variants for kind, variants in same.items() if variants}
