"""The one check for user-supplied redirect targets (``?next=``, the language switcher's ``next``).

A target is accepted only when it is a same-site path: it starts with exactly one ``/``,
has no scheme and no host, and carries nothing a browser would strip or reinterpret on the
way (tabs, CR/LF, other control characters, backslashes), neither as typed nor once
percent-decoded. Anything else — ``//evil``, ``/\\evil``, ``/%09/evil``, ``https:evil``,
``javascript:``, over-long values — gives the caller's fallback. Nothing is silently
stripped: a doubtful value is refused as a whole. See ``docs/security.md``.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

MAX_LENGTH = 2048
_DECODE_ROUNDS = 3


def _suspicious(text: str) -> bool:
    if "\\" in text:
        return True
    for ch in text:
        category = unicodedata.category(ch)
        # Cc: C0/C1 controls (tab, CR, LF, NUL, DEL…); Cf: invisible formatting; Zl/Zp: separators.
        if category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            return True
    return False


def _is_local_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return False
    if _suspicious(text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def is_safe_next(value: str | None) -> bool:
    """True when ``value`` is a same-site path that may be redirected to as it is."""
    if not value or len(value) > MAX_LENGTH:
        return False
    text = value
    for _ in range(_DECODE_ROUNDS):
        if not _is_local_path(text):
            return False
        decoded = unquote(text)
        if decoded == text:
            return True
        text = decoded
    # Still changing after several rounds of decoding: nobody legitimate nests that deep.
    return False


def safe_next(value: str | None, fallback: str) -> str:
    """``value`` when it is a safe same-site path (see :func:`is_safe_next`), else ``fallback``."""
    return value if value is not None and is_safe_next(value) else fallback
