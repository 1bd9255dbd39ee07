"""Formats the core and every module check the same way, written once."""

from __future__ import annotations

import re

NATIONAL_ID_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,8}$")
"""A Moroccan national identity card number (CIN), upper case: one or two letters, then one to
eight digits (``BE123456``). Callers strip and upper-case the input before matching."""


def storable(text: str) -> bool:
    """True when ``text`` holds no NUL and no lone surrogate: both databases can store it, and
    PostgreSQL can compare it (a NUL in a query parameter was a 500 there)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


__all__ = ["NATIONAL_ID_RE", "storable"]
