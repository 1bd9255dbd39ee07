"""What every part of the shop shares: the words for codes, money, the establishment's rules."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_pgettext
from sqlalchemy import bindparam, select

from core.db import built_once, utcnow
from core.db import session as db_session
from core.errors import NotFound
from core.establishments.models import Establishment
from core.i18n import lazy_gettext as _l
from core.identity.services import has_permission
from core.scoping import can_see_establishment, read_columns
from core.validation import ascii_digits
from idmaj_purchasing.models import CATEGORIES, UNITS, OrderStatus, ShopRules

MAX_PRICE = 1_000_000  # 10,000.00 MAD in centimes
MAX_STOCK = 100_000
MAX_QUANTITY = 50  # of one product in one order
MAX_LINES = 40
DEFAULT_WEEKLY_CAP = 50_000  # 500.00 MAD
DEFAULT_PAYMENT_HOURS = 48
WEEK = dt.timedelta(days=7)
AMOUNT_RE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")

CATEGORY_LABELS = {
    "food": lazy_pgettext("product category", "Food"),
    "drinks": _l("Drinks"),
    "hygiene": _l("Hygiene"),
    "clothing": _l("Clothing"),
    "stationery": _l("Stationery"),
    "phone_cards": _l("Phone cards"),
    "tobacco": _l("Tobacco"),
}
UNIT_LABELS = {
    "piece": _l("piece"),
    "pack": _l("pack"),
    "kg": _l("kg"),
    "g500": _l("500 g"),
    "litre": _l("litre"),
    "box": _l("box"),
}
STATUS_LABELS = {
    OrderStatus.awaiting_payment: _l("Awaiting payment"),
    OrderStatus.paid: _l("Paid"),
    OrderStatus.prepared: _l("Prepared"),
    OrderStatus.delivered: _l("Delivered"),
    OrderStatus.refused: lazy_pgettext("order status", "Refused"),
    OrderStatus.cancelled: _l("Cancelled"),
    OrderStatus.expired: _l("Expired"),
}
REASON_LABELS = {
    "family": _l("Cancelled by the family"),
    "shop": _l("Cancelled by the shop"),
    "transfer": _l("The detainee was transferred"),
    "release": _l("The detainee was released"),
    "expired": _l("Not paid in time"),
    "account_closed": _l("The family account was closed"),
}
assert set(CATEGORY_LABELS) == set(CATEGORIES) and set(UNIT_LABELS) == set(UNITS)


def category_label(code: str) -> str:
    return str(CATEGORY_LABELS.get(code, code))


def unit_label(code: str) -> str:
    return str(UNIT_LABELS.get(code, code))


def status_label(code: Any) -> str:
    return str(STATUS_LABELS.get(OrderStatus(str(code)), code)) if code else ""


PAYMENT_LABELS = {"agency": _l("At an agency"), "account": _l("Detainee's account")}


def payment_label(code: str) -> str:
    """How an order was paid, in words (another module's method by its own label)."""
    if code in PAYMENT_LABELS:
        return str(PAYMENT_LABELS[code])
    from idmaj_purchasing.services.payments import method

    found = method(code)
    return str(found.label) if found is not None else code


def reason_label(code: str) -> str:
    """A stored reason code in words; a refusal's reason is the shop's own words."""
    return str(REASON_LABELS[code]) if code in REASON_LABELS else code


def money(centimes: int) -> str:
    """Two decimals, as the API shows money: 450 → "4.50"."""
    sign = "-" if centimes < 0 else ""
    centimes = abs(centimes)
    return f"{sign}{centimes // 100}.{centimes % 100:02d}"


def to_decimal(centimes: int) -> Decimal:
    return Decimal(centimes) / 100


def parse_money(value: Any, *, maximum: int = MAX_PRICE) -> int | None:
    """ "4.5", "4,50", "٤٫٥٠" → 450 centimes; ``None`` when it is not an amount in range."""
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, str):
        text = ascii_digits(value).strip().replace(",", ".").replace("٫", ".")
    else:
        return None
    if not AMOUNT_RE.fullmatch(text):
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None
    cents = int(amount * 100)
    return cents if 0 < cents <= maximum else None


def parse_count(value: Any, *, minimum: int = 0, maximum: int = MAX_STOCK) -> int | None:
    """A whole number typed in a form or sent in JSON (Arabic-Indic digits accepted)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and ascii_digits(value).strip().isdigit():
        text = ascii_digits(value).strip()
        if len(text) > 9:
            return None
        number = int(text)
    else:
        return None
    return number if minimum <= number <= maximum else None


def now() -> dt.datetime:
    return utcnow()


def establishment_by_code(code: Any) -> Establishment | None:
    # a code is short, printable and NUL-free (PostgreSQL refuses NUL in text: no 500)
    if not isinstance(code, str) or not code.strip() or len(code) > 40 or "\x00" in code:
        return None
    return db_session().scalar(
        select(Establishment).where(Establishment.code == code.strip().upper())
    )


@built_once
def _rules_of() -> Any:
    return select(ShopRules).where(ShopRules.establishment_id == bindparam("establishment_id"))


def rules_for(establishment_id: int) -> ShopRules:
    """The establishment's rules (defaults, not stored, until someone changes them)."""
    rules = db_session().scalar(_rules_of(), {"establishment_id": establishment_id})
    return rules if rules is not None else _default_rules(establishment_id)


@built_once
def _rules_values_of() -> Any:
    return select(
        ShopRules.weekly_cap_centimes, ShopRules.payment_hours, ShopRules.forbidden_categories
    ).where(ShopRules.establishment_id == bindparam("establishment_id"))


def rules_to_read(establishment_id: int) -> ShopRules:
    """The establishment's rules for reading only (a profile's panel): the values
    :func:`rules_for` gives, in a ``ShopRules`` that is not in the session (never change it
    or add it: :func:`rules_for` gives the one to change). Read as columns by Core
    (``read_columns``), not loaded as an object."""
    row = read_columns(_rules_values_of(), {"establishment_id": establishment_id}).first()
    if row is None:
        return _default_rules(establishment_id)
    return ShopRules(
        establishment_id=establishment_id,
        weekly_cap_centimes=row[0],
        payment_hours=row[1],
        forbidden_categories=row[2],
    )


def _default_rules(establishment_id: int) -> ShopRules:
    return ShopRules(
        establishment_id=establishment_id,
        weekly_cap_centimes=DEFAULT_WEEKLY_CAP,
        payment_hours=DEFAULT_PAYMENT_HOURS,
        forbidden_categories="",
    )


def forbidden_everywhere(rules: ShopRules) -> set[str]:
    return {c for c in (rules.forbidden_categories or "").split(",") if c}


def shop_staff(
    user: Any, establishment_id: int | None, permission: str = "purchasing.view"
) -> None:
    """Staff of the establishment holding ``permission``; another establishment's rows do not
    exist for them (404), a missing permission is a 403."""
    from core.errors import Forbidden

    if not has_permission(user, permission):
        raise Forbidden(_("You are not allowed to do this."))
    if not can_see_establishment(user, establishment_id):
        raise NotFound(_("No such order."), code="order_not_found")
