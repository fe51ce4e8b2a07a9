"""One account per address however it is spelled, and none that looks like another's.

Seen before: eleven look-alike addresses registered as separate accounts beside
``owner@example.com``'s (fullwidth letters, Cyrillic letters, zero-width
characters, NFD forms, U+017F, U+0130, a right-to-left override): the key was the
address lower-cased, in each store adapter.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from simdock.domain import User
from simdock.domain.identity import (
    check_email,
    identity_key,
    lookup_keys,
    refused_character,
    skeleton,
    skeleton_digest,
)
from simdock.errors import Conflict, NotFound, ValidationError
from simdock.platform import Platform
from simdock.usecases import auth
from simdock.usecases.users import find_user
from simdock_adapters.auth.jwt_tokens import JwtAccessTokens
from tests.unit.fakes import make_platform

OWNER = "owner@example.com"
PASSWORD = "right-password"
#: Spellings of OWNER's address (same identity key): the owner logs in with any of them.
SAME_ADDRESS = {
    "upper case": "OWNER@EXAMPLE.COM",
    "fullwidth letters": "\uff4f\uff57\uff4e\uff45\uff52@example.com",
    "mathematical bold letters": "\U0001d428\U0001d430\U0001d427\U0001d41e\U0001d42b"
                                 "@example.com",
}
#: Addresses that are not OWNER's but look like it: refused while OWNER's account exists.
LOOK_ALIKES = {
    "Cyrillic o": "\u043ewner@example.com",
    "Cyrillic o and e": "\u043ewn\u0435r@example.com",
    "Greek omicron": "\u03bfwner@example.com",
    "digit zero for o": "0wner@example.com",
    "Cyrillic in the domain": "owner@\u0435xample.com",
}
#: Addresses refused whatever exists, each for the character named.
INVISIBLE = {
    "zero-width space": ("ow\u200bner@example.com", "U+200B ZERO WIDTH SPACE"),
    "zero-width joiner": ("ow\u200dner@example.com", "U+200D ZERO WIDTH JOINER"),
    "word joiner": ("owner\u2060@example.com", "U+2060 WORD JOINER"),
    "byte order mark": ("\ufeffowner@example.com", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    "soft hyphen": ("ow\u00adner@example.com", "U+00AD SOFT HYPHEN"),
    "right-to-left override": ("\u202emoc.elpmaxe@renwo", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "left-to-right isolate": ("owner\u2066@example.com", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    "variation selector": ("owner\ufe0f@example.com", "U+FE0F VARIATION SELECTOR-16"),
    "Hangul filler": ("owner\u3164@example.com", "U+3164 HANGUL FILLER"),
    "private use": ("owner\ue000@example.com", "U+E000"),
    "unassigned": ("owner\U0001fbfa@example.com", "U+1FBFA"),
    "control": ("owner\x07@example.com", "U+0007"),
}


def platform_with(*emails: str) -> Platform:
    platform = make_platform(access_tokens=JwtAccessTokens("k" * 40, timedelta(minutes=5)))
    for email in emails:
        platform.auth.register_user(auth.RegisterUser(email, PASSWORD))
    return platform


def register(platform: Platform, email: str) -> User:
    return platform.auth.register_user(auth.RegisterUser(email, PASSWORD))


@pytest.mark.parametrize("spelling", list(SAME_ADDRESS.values()), ids=list(SAME_ADDRESS))
def test_another_spelling_of_an_address_is_the_same_account(spelling: str) -> None:
    platform = platform_with(OWNER)
    with pytest.raises(Conflict, match="already exists"):
        register(platform, spelling)
    assert platform.auth.login(spelling, PASSWORD).user.email == OWNER


def test_composed_and_decomposed_accents_and_a_long_s_are_one_account() -> None:
    platform = platform_with("jos\u00e9@example.com", "\u017fam@example.com")
    with pytest.raises(Conflict, match="already exists"):
        register(platform, "jose\u0301@example.com")  # e + combining acute
    with pytest.raises(Conflict, match="already exists"):
        register(platform, "sam@example.com")  # the long s is an s
    assert platform.auth.login("JOSE\u0301@example.com", PASSWORD).user.email \
        == "jos\u00e9@example.com"
    assert platform.auth.login("SAM@example.com", PASSWORD).user.email == "\u017fam@example.com"


@pytest.mark.parametrize("look_alike", list(LOOK_ALIKES.values()), ids=list(LOOK_ALIKES))
def test_an_address_that_looks_like_an_account_s_is_refused(look_alike: str) -> None:
    platform = platform_with(OWNER)
    assert identity_key(look_alike) != identity_key(OWNER)
    with pytest.raises(Conflict, match="looks like the address of an existing account"):
        register(platform, look_alike)
    with pytest.raises(Exception, match="incorrect email or password"):
        platform.auth.login(look_alike, PASSWORD)


def test_a_dotted_capital_i_looks_like_an_i() -> None:
    platform = platform_with("ivan@example.com")
    with pytest.raises(Conflict, match="looks like"):
        register(platform, "\u0130van@example.com")  # folds to i + U+0307
    platform = platform_with("\u0130van@example.com")
    with pytest.raises(Conflict, match="looks like"):
        register(platform, "ivan@example.com")
    assert platform.auth.login("\u0130VAN@example.com", PASSWORD).user.email \
        == "\u0130van@example.com"


@pytest.mark.parametrize("name", list(INVISIBLE))
def test_invisible_and_bidirectional_characters_are_refused_by_name(name: str) -> None:
    email, named = INVISIBLE[name]
    platform = platform_with()
    with pytest.raises(ValidationError) as refused:
        register(platform, email)
    assert named in refused.value.message
    assert "email address holds" in refused.value.message
    with platform.uow() as uow:
        assert find_user(uow, email) is None


def test_the_refusals_say_what_kind_of_character_it_is() -> None:
    assert refused_character("\u202e") == "a bidirectional control character"
    assert refused_character("\u200b") == "an invisible formatting character"
    assert refused_character("\ufe0f") == "an invisible character"
    assert refused_character("\ue000") == "a private-use character"
    assert refused_character("\U0001fbfa") == "an unassigned code point"
    assert refused_character("\x07") == "a control character"
    assert refused_character("\u2028") == "a line separator"
    for letter in "aZ\u00e9\u0430\u4e2d\U0001d428@.-_+":
        assert refused_character(letter) is None


def test_an_address_whose_normal_form_is_no_address_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a valid email address"):
        check_email("own\uff20er@example.com")  # a fullwidth @: two @ once normalised
    with pytest.raises(ValidationError, match="longer than 320 characters once normalised"):
        check_email("a" * 60 + "@" + "\ufb03" * 90 + ".com")  # each ligature is 3 letters
    assert check_email(OWNER) == OWNER


def test_skeletons_follow_unicode_confusables() -> None:
    assert skeleton("paypal") == skeleton("\u0440\u0430y\u0440al")  # Cyrillic r and a
    assert skeleton("modern") == skeleton("rnodern")
    assert skeleton("bill") == skeleton("bi1l") == skeleton("bi\u04cfl")  # palochka
    assert skeleton("owner") != skeleton("owners")
    assert len(skeleton_digest("owner@example.com")) == 64


def test_lookups_try_the_spelling_as_typed_first() -> None:
    assert lookup_keys("Owner@Example.com") == ["owner@example.com"]
    assert lookup_keys("\uff4fwner@example.com") == ["\uff4fwner@example.com",
                                                     "owner@example.com"]


def test_an_account_that_kept_an_earlier_key_is_found_by_its_own_spelling() -> None:
    platform = platform_with(OWNER)
    legacy = User("usr-legacy", "\uff4fwner@example.com", platform.clock.now(),
                  email_key="\uff4fwner@example.com", email_skeleton=None)
    with platform.uow() as uow:
        uow.users.add(legacy)  # as migration 0008 leaves a collision
        uow.commit()
    with platform.uow() as uow:
        by_own = find_user(uow, "\uff4fwner@example.com")
        by_other = find_user(uow, "OWNER@example.com")
    assert by_own is not None and by_own.id == "usr-legacy"
    assert by_other is not None and by_other.email == OWNER


def test_the_local_user_and_administrators_are_found_by_any_spelling() -> None:
    platform = platform_with(OWNER)
    assert platform.users.ensure_user("OWNER@EXAMPLE.COM").email == OWNER
    assert platform.users.set_admin("\uff4fwner@example.com", True).is_admin
    with pytest.raises(NotFound):
        platform.users.set_admin("\u043ewner@example.com", True)
    local = platform.users.ensure_user("local@simdock")
    assert platform.users.ensure_user("LOCAL@simdock").id == local.id
