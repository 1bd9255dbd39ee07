"""CSV exports that a spreadsheet cannot turn into formulas (CSV/formula injection).

Every CSV the application produces writes its rows with :func:`write_rows`, which passes every
text cell through :func:`csv_safe`: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with ``'`` so Excel, LibreOffice and Google Sheets show it as text
instead of evaluating it (``=HYPERLINK(...)``, ``@SUM(...)``, ``-2+3``…).

Numbers the application computes itself — ``int``, ``Decimal``, ``float`` cells, such as money
amounts and head counts — are written as they are: they cannot carry a formula, and a negative
balance must stay a readable, summable ``-12.50``. Any *text* cell is escaped, whoever typed
it, including number-looking text (``"-2"`` in a name is shown as ``'-2``). So an export that
wants a money column to stay numeric passes a ``Decimal``, not a formatted string. See
``docs/security.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NUMBER_TYPES = (int, float, Decimal)


class RowWriter(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


def csv_safe(value: Any) -> Any:
    """``value`` ready for a CSV cell: text starting with a formula prefix gets a leading ``'``.

    ``None`` is an empty cell; numbers (not ``bool``) are kept as numbers; anything else is
    turned into text and escaped.
    """
    if value is None:
        return ""
    if isinstance(value, NUMBER_TYPES) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_rows(writer: RowWriter, rows: Iterable[Iterable[Any]]) -> None:
    """Write ``rows`` with ``writer`` (a ``csv.writer``), every cell through :func:`csv_safe`."""
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
