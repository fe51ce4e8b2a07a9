"""Whose email address is whose: one identity per address however it is spelled.

An email address names an account by its **identity key**: the address in
Unicode's compatibility composition, case-folded (NFKC, casefold, NFKC again:
``NFKC_Casefold``'s effect on every address simdock accepts). ``Ada@example.com``,
``ada@example.com``, the same in fullwidth letters (U+FF21...) and a decomposed
``e`` + U+0301 for a composed U+00E9 all name one account, and U+017F LATIN SMALL
LETTER LONG S is ``s``. Two accounts never share a key.

Addresses that are distinct but look alike share a **skeleton** (Unicode
Technical Standard #39, section 4): ``ada@example.com`` spelled with U+0430
CYRILLIC SMALL LETTER A, or ``ada@examp1e.com``. A new account whose skeleton is
an existing account's is refused. The skeleton here is UTS #39's, of the identity
key, with two additions for keys that are case-folded: prototypes are case-folded
and mapped again (``0`` and ``o`` look alike whatever the case), and a dot above a
soft-dotted ``i`` or ``j`` is dropped, since it adds nothing to the dot they have
(U+0130 LATIN CAPITAL LETTER I WITH DOT ABOVE folds to ``i`` + U+0307). Accounts
are compared by a SHA-256 digest of the skeleton, which keeps the stored value
short whatever the address.

Characters nobody can see or that reorder what is seen are refused in a new
address (:func:`check_email`): control and format characters (zero-width spaces
and joiners, bidirectional controls such as U+202E RIGHT-TO-LEFT OVERRIDE, the
soft hyphen), other default-ignorable code points (variation selectors, Hangul
fillers), private-use, surrogate and unassigned code points. Addresses stored
before these rules keep working: see :func:`lookup_keys`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from simdock.domain.confusables import prototypes
from simdock.domain.text import BLANK, NUL
from simdock.errors import ValidationError

#: The longest address, and the longest key: both are stored in 320 characters.
MAX_LENGTH = 320
_PART = rf"[^@\x00{BLANK}]"
#: The shape of an address: a local part of 1 to 64 characters, one @, a dotted domain.
EMAIL = re.compile(rf"^{_PART}{{1,64}}@{_PART}+\.{_PART}{{2,}}$")
_DOT_ABOVE = "\u0307"
_SOFT_DOTTED = frozenset("ij")
#: Unicode's bidirectional formatting characters (Bidi_Control).
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")
#: Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15.0): characters
#: shown as nothing. Most are format (Cf) or unassigned (Cn) anyway; the others are
#: combining marks and letters that are invisible all the same.
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a surrogate code point",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


def may_name_an_account(email: object) -> bool:
    """Whether ``email`` could be a stored address: text of at most :data:`MAX_LENGTH`
    characters that every store can hold (no NUL, no lone surrogate)."""
    if not isinstance(email, str) or len(email) > MAX_LENGTH or NUL in email:
        return False
    try:
        email.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def identity_key(email: str) -> str:
    """The key an address names its account by (any text has one)."""
    return unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", email).casefold())


def legacy_key(email: str) -> str:
    """The key accounts were stored by before identity keys (the address lower-cased)."""
    return email.lower()


def lookup_keys(email: str) -> list[str]:
    """The keys to look an account up by, in order: the address's own spelling first.

    An account stored before identity keys whose key collided with an older
    account's kept its earlier key (``simdock_migrations`` revision 0008): it is
    found by its own spelling, lower-cased, as before. Every other account is found
    by its identity key, from any equivalent spelling.
    """
    keys = [legacy_key(email), identity_key(email)]
    return keys[:1] if keys[0] == keys[1] else keys


def skeleton(key: str) -> str:
    """What ``key`` looks like: equal for two keys that can be mistaken for each other."""
    return _prototypes(_prototypes(key).casefold())


def skeleton_digest(key: str) -> str:
    """The stored form of :func:`skeleton`: its SHA-256, in hexadecimal."""
    return hashlib.sha256(skeleton(key).encode("utf-8", "surrogatepass")).hexdigest()


def check_email(email: object) -> str:
    """``email`` if a new account may have it, else a ValidationError naming the problem.

    It must have the shape of an address (:data:`EMAIL`) before and after normalisation.
    """
    if not isinstance(email, str) or len(email) > MAX_LENGTH:
        raise ValidationError(f"not a valid email address: {email!r}")
    for character in email:
        problem = refused_character(character)
        if problem:
            raise ValidationError(
                f"the email address holds {problem}, U+{ord(character):04X} "
                f"{unicodedata.name(character, '(unnamed)')}: it could make one address "
                f"look like another, so it is refused")
    key = identity_key(email)
    if not EMAIL.match(email) or not EMAIL.match(key):
        raise ValidationError(f"not a valid email address: {email!r}")
    if len(key) > MAX_LENGTH:
        raise ValidationError(f"the email address is longer than {MAX_LENGTH} characters "
                              f"once normalised (NFKC)")
    return email


def refused_character(character: str) -> str | None:
    """What is wrong with ``character`` in an address (an article and a noun), or None."""
    if character in _BIDI_CONTROLS:
        return "a bidirectional control character"
    category = unicodedata.category(character)
    if category in _REFUSED_CATEGORIES:
        return _REFUSED_CATEGORIES[category]
    if _DEFAULT_IGNORABLE.match(character):
        return "an invisible character"
    return None


def _prototypes(text: str) -> str:
    """UTS #39's mapping: NFD, each character to its prototype, NFD again; a dot above
    a soft-dotted letter dropped."""
    table = prototypes()
    mapped = []
    soft_dotted = False
    for character in unicodedata.normalize("NFD", text):
        combining = unicodedata.combining(character)
        if character == _DOT_ABOVE and soft_dotted:
            continue
        prototype = table.get(character, character)
        if not combining:
            soft_dotted = prototype in _SOFT_DOTTED
        elif combining == 230:  # another mark above: the letter's dot is gone
            soft_dotted = False
        mapped.append(prototype)
    return unicodedata.normalize("NFD", "".join(mapped))
