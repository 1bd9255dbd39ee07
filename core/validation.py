"""Input patterns shared by the core and every module, defined once."""

from __future__ import annotations

import re

NATIONAL_ID_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,8}$")
"""A Moroccan national identity card number (CIN): one or two capital letters, then 1 to 8
digits (``BE123456``)."""
