"""Numbers and dates read from query strings, the same way in every module.

``?page=99999999999999999999`` must not reach the database (an offset beyond its integer range
is a 500), and ``?day=9999-12-31`` must not reach date arithmetic (the day after is an
``OverflowError``). Pages read :func:`page_number` (an odd value is clamped: a page number is
a navigation aid, not data); endpoints that must say what was wrong read :func:`query_int`
and :func:`query_date`, which raise ``ValueError`` for the caller to turn into its 400.
"""

from __future__ import annotations

import datetime as dt
import re

MAX_PAGE = 100_000
"""The last page any list serves: offsets stay far inside every database's integer range."""

EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)
"""Days a query string may name: a day either side stays a valid date, in every time zone."""

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def query_int(raw: str | None, *, default: int, minimum: int, maximum: int) -> int:
    """``raw`` as a whole number in ``[minimum, maximum]``; ``default`` when absent or blank.

    ASCII digits only (no ``1_000``, ``1e3``, Arabic-Indic digits); ``ValueError`` otherwise.
    """
    text = (raw or "").strip()
    if not text:
        return default
    if not _INTEGER.fullmatch(text):
        raise ValueError(raw)
    value = int(text)
    if not minimum <= value <= maximum:
        raise ValueError(raw)
    return value


def query_page_unbounded(raw: str | None) -> int:
    """A page number of any size (ASCII digits, at most 100 of them), at least 1; 1 when absent.

    Only for a query layer that never sends a page past the end to the database.
    """
    text = (raw or "").strip()
    if not text:
        return 1
    if not (text.isascii() and text.isdigit() and len(text) <= 100) or int(text) < 1:
        raise ValueError(raw)
    return int(text)


def page_number(raw: str | None, *, maximum: int = MAX_PAGE) -> int:
    """A list page's ``?page=``: 1 for anything unreadable or below 1, ``maximum`` above it."""
    text = (raw or "").strip()
    if not _INTEGER.fullmatch(text):
        # beyond 18 digits is beyond the last page; anything else unreadable is the first one
        return maximum if text.isascii() and text.isdigit() else 1
    return min(max(1, int(text)), maximum)


def query_date(raw: str | None) -> dt.date:
    """A ``YYYY-MM-DD`` day between :data:`EARLIEST_DATE` and :data:`LATEST_DATE`.

    ``ValueError`` for anything else (unreadable, impossible or out of range).
    """
    text = (raw or "").strip()
    if len(text) != 10:
        raise ValueError(raw)
    day = dt.date.fromisoformat(text)
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(raw)
    return day


def date_in_range(value: dt.date | dt.datetime) -> bool:
    """True when ``value``'s day lies between :data:`EARLIEST_DATE` and :data:`LATEST_DATE`.

    The bound every date read from people obeys, wherever it comes from: query strings (here),
    web forms (``core.forms.IdmajForm``) and API bodies (``core.api.toolkit.endpoint``).
    """
    day = value.date() if isinstance(value, dt.datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE
