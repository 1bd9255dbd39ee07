"""Formats the core and every module check the same way, written once."""

from __future__ import annotations

import re

NATIONAL_ID_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,8}$")
"""A Moroccan national identity card number (CIN), upper case: one or two letters, then one to
eight digits (``BE123456``). Callers strip and upper-case the input before matching."""

# Arabic-Indic (٠١٢٣٤٥٦٧٨٩, U+0660-0669) and Eastern Arabic-Indic (۰۱۲۳۴۵۶۷۸۹, U+06F0-06F9,
# Persian and Urdu keyboards) digits, and the Arabic decimal and thousands separators.
_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
_TO_ASCII = str.maketrans(_DIGITS | {0x066B: ".", 0x066C: ","})


def ascii_digits(text: str) -> str:
    """``text`` with Arabic-Indic digits turned into ASCII ones (``"٢٠٢٥-٠٠٠١٢٣"`` →
    ``"2025-000123"``), and the Arabic decimal (``٫``) and thousands (``٬``) separators into
    ``.`` and ``,``. The one rule for every number a person types: registration numbers, national
    ids' digits, phone numbers, amounts, page numbers. Anything else is left as it is."""
    return text.translate(_TO_ASCII)


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


__all__ = ["NATIONAL_ID_RE", "ascii_digits", "storable"]
