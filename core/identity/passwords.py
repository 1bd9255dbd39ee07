"""Passwords: argon2id hashing (argon2-cffi), one normalisation, and the strength rule.

**Normalisation.** Every password — typed on a page or sent to the API, when set and when
checked — goes through :func:`normalise_password`: Unicode NFKC (so the same characters typed
on two keyboards, precomposed or not, full-width or not, are the same password, as NIST SP
800-63B advises) and nothing else: no stripping of spaces on either side, a space is a
character like any other.

**Strength** (:func:`password_problem`): 10 to 128 characters; not one of the most common
passwords (zxcvbn's list of the 30 000 most frequent leaked passwords, plus a short list of
this system's own words, :data:`LOCAL_COMMON_PASSWORDS`); and a zxcvbn score of at least
:data:`MIN_STRENGTH` (3, "safely unguessable: moderate protection from offline slow-hash
scenario"), the user's own username, names and numbers counting as known words.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

_DUMMY_HASH: dict[tuple[int, int, int], str] = {}

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
MIN_STRENGTH = 3

# Words every attacker of this system tries first (zxcvbn's dictionaries hold the world's).
LOCAL_COMMON_PASSWORDS: frozenset[str] = frozenset(
    {
        "idmaj",
        "idmaj2026",
        "prison",
        "prisons",
        "detenu",
        "detenus",
        "maroc",
        "morocco",
        "casablanca",
        "rabat",
        "motdepasse",
        "azerty",
        "azertyuiop",
        "bismillah",
        "allahakbar",
        "soleil",
        "changeme",
        "welcome",
        "bienvenue",
    }
)


def normalise_password(password: str) -> str:
    """The one form a password is hashed and checked in: NFKC, nothing stripped."""
    return unicodedata.normalize("NFKC", password or "")


def _hasher() -> PasswordHasher:
    params = current_app.config["PASSWORD_HASH_PARAMS"]
    return PasswordHasher(**params)


def hash_password(password: str) -> str:
    return _hasher().hash(normalise_password(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no stored hash, spend the same time and return False.

    A hash made before passwords were normalised (a non-NFKC password) still matches the
    password as typed."""
    hasher = _hasher()
    if stored_hash is None:
        key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = hasher.hash("not-a-password")
        stored_hash = _DUMMY_HASH[key]
        password = password + "\x00"
    normalised = normalise_password(password)
    for candidate in dict.fromkeys((normalised, password or "")):
        try:
            if hasher.verify(stored_hash, candidate):
                return True
        except (VerificationError, InvalidHashError):
            continue
    return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | LOCAL_COMMON_PASSWORDS


def is_common_password(password: str) -> bool:
    """One of the most common passwords, whatever its case or the digits and symbols after
    it (``Password2026!`` is ``password``)."""
    lowered = normalise_password(password).lower()
    common = _common_passwords()
    return lowered in common or lowered.rstrip("0123456789!?.@#$*-_ ") in common


def password_problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """What is wrong with a new password (a localised sentence for its field), or ``None``.

    ``user_inputs``: the account's username, names, numbers — words an attacker knows."""
    from zxcvbn import zxcvbn

    password = normalise_password(password)
    if len(password) < MIN_PASSWORD_LENGTH:
        return ngettext(
            "The password must have at least %(num)d character.",
            "The password must have at least %(num)d characters.",
            MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return ngettext(
            "The password must have at most %(num)d character.",
            "The password must have at most %(num)d characters.",
            MAX_PASSWORD_LENGTH,
        )
    if is_common_password(password):
        return _("This password is one of the most common ones: choose another.")
    words = [w for value in user_inputs if value for w in [value, *str(value).split()]]
    if zxcvbn(password, user_inputs=words)["score"] < MIN_STRENGTH:
        return _("This password is too easy to guess: add words or characters.")
    return None
