"""Amounts: text typed by a person or sent to the API → integer centimes, and back."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from core.errors import ValidationFailed
from core.validation import ascii_digits

MAX_AMOUNT = 99_999_999_999  # 999,999,999.99 MAD: bigger is a typing mistake
AMOUNT_RE = re.compile(r"^(\d{1,9})(?:\.(\d{1,2}))?$")


class AmountError(ValueError):
    """A bad amount; ``str()`` is the localised message."""


def parse_amount(value: Any, *, allow_comma: bool = False) -> int:
    """A positive money amount given as text (``"125.50"``) → integer centimes.

    Refused: anything but a string (JSON numbers, null), signs, exponents, ``NaN``/``Infinity``,
    more than two decimals, zero, more than 999,999,999.99.
    """
    if value is None:
        raise AmountError(_("Enter an amount."))
    if isinstance(value, bool) or not isinstance(value, str):
        raise AmountError(_('Enter the amount as text with at most two decimals, e.g. "125.50".'))
    text = ascii_digits(value).strip()
    if allow_comma:
        text = text.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not text:
        raise AmountError(_("Enter an amount."))
    match = AMOUNT_RE.match(text)
    if match is None:
        if re.match(r"^\d+\.\d{3,}$", text):
            raise AmountError(_("Use at most two decimals."))
        if text.startswith("-"):
            raise AmountError(_("Enter an amount greater than zero."))
        if re.match(r"^\d{10,}(\.\d*)?$", text):
            raise AmountError(_("This amount is too large."))
        raise AmountError(_('Enter the amount as text with at most two decimals, e.g. "125.50".'))
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    centimes = int(whole) * 100 + int(cents or "0")
    if centimes <= 0:
        raise AmountError(_("Enter an amount greater than zero."))
    if centimes > MAX_AMOUNT:
        raise AmountError(_("This amount is too large."))
    return centimes


def amount_or_error(value: Any, field_name: str = "amount", *, allow_comma: bool = False) -> int:
    try:
        return parse_amount(value, allow_comma=allow_comma)
    except AmountError as exc:
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={field_name: str(exc)}
        ) from exc


def to_decimal(centimes: int) -> Decimal:
    return (Decimal(centimes) / 100).quantize(Decimal("0.01"))


def money(centimes: int) -> str:
    """``12550`` → ``"125.50"`` (the API's form)."""
    sign = "-" if centimes < 0 else ""
    centimes = abs(centimes)
    return f"{sign}{centimes // 100}.{centimes % 100:02d}"


def decimal_from_text(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
