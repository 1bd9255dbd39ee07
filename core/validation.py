"""Formats the core and every module check the same way, written once."""

from __future__ import annotations

import re

NATIONAL_ID_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,8}$")
"""A Moroccan national identity card number (CIN), upper case: one or two letters, then one to
eight digits (``BE123456``). Callers strip and upper-case the input before matching."""

__all__ = ["NATIONAL_ID_RE"]
