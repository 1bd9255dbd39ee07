"""The catalogue's rules: every write goes through here (page, API and demo data share it).

Services check the permission, validate with localised per-field messages, audit every change
and never commit: the page or the API endpoint commits once.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import services as audit
from core.db import session as db_session
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import lazy_gettext as _l
from core.identity.models import User
from core.identity.services import has_permission, require
from core.plugins import collect
from core.ports import has_port, port
from core.ports.funds import FUNDS_ACCOUNTS, FundsAccounts, FundsReceipt
from idmaj_example.models import CATEGORIES, ExampleItem

CATEGORY_LABELS = {
    "food": _l("Food"),
    "hygiene": _l("Hygiene"),
    "stationery": _l("Stationery"),
}
MAX_PRICE_CENTIMES = 100_000  # 1,000.00 MAD
MAX_QUANTITY = 20


def category_label(code: str) -> str:
    return str(CATEGORY_LABELS.get(code, code))


def format_price(centimes: int) -> str:
    """Two decimals, as the API shows money: 450 → "4.50"."""
    return f"{centimes // 100}.{centimes % 100:02d}"


def parse_price(value: Any) -> int | None:
    """ "4.5", "4.50" or "4,50" → 450 centimes; None when it is not a price."""
    if not isinstance(value, str):
        return None
    try:
        amount = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return None
    return int(amount * 100)


def list_items(user: Any) -> list[ExampleItem]:
    require(user, "example.view")
    stmt = (
        select(ExampleItem)
        .where(ExampleItem.active.is_(True))
        .order_by(ExampleItem.category, ExampleItem.name)
    )
    return list(db_session().scalars(stmt))


def add_item(data: Mapping[str, Any], actor: Any) -> ExampleItem:
    """Add an item to the catalogue."""
    require(actor, "example.manage")
    errors: dict[str, str] = {}
    name = data.get("name")
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        errors["name"] = _("This field is required.")
    elif len(name) > 80:
        errors["name"] = _("At most %(n)d characters.", n=80)
    category = data.get("category")
    if category not in CATEGORIES:
        errors["category"] = _("Choose a category of the catalogue.")
    price = parse_price(data.get("price"))
    if price is None or not 0 < price <= MAX_PRICE_CENTIMES:
        errors["price"] = _("Enter a price between 0.01 and 1000.00 MAD, like 12.50.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    sess = db_session()
    if sess.scalar(select(ExampleItem.id).where(ExampleItem.name == name)) is not None:
        raise Conflict(
            _("This item is already in the catalogue."),
            code="duplicate_item",
            fields={"name": _("This item is already in the catalogue.")},
        )
    item = ExampleItem(name=name, category=str(category), price_centimes=int(price or 0))
    sess.add(item)
    sess.flush()
    audit.record(
        "example.item.add",
        "example_item",
        item.id,
        summary={"name": name, "category": category, "price": format_price(item.price_centimes)},
        actor=actor,
    )
    return item


def item_notes(item: ExampleItem) -> list[str]:
    """What other modules say about an item (the ``example_item_notes`` hook we publish)."""
    return [str(n) for n in collect("example_item_notes", name=item.name, category=item.category)]


def can_sell(user: User | None) -> bool:
    """Selling is offered only when a module provides detainee accounts (the funds module's
    ``funds.accounts`` port) and the user may sell."""
    return has_port(FUNDS_ACCOUNTS, FundsAccounts) and has_permission(user, "example.sell")


def sell_item(data: Mapping[str, Any], actor: Any) -> FundsReceipt:
    """Sell ``quantity`` of an item to a detainee, paid from their account through the
    ``funds.accounts`` port, in this request's transaction: if anything after the debit fails,
    the debit is rolled back with it.

    :raises PortUnavailable: no module provides detainee accounts (503).
    """
    require(actor, "example.sell")
    accounts = port(FUNDS_ACCOUNTS, FundsAccounts)
    errors: dict[str, str] = {}
    item = None
    try:
        item = db_session().get(ExampleItem, int(data.get("item") or 0))
    except (TypeError, ValueError):
        item = None
    if item is None or not item.active:
        errors["item"] = _("Choose an item of the catalogue.")
    quantity = data.get("quantity")
    if isinstance(quantity, str) and quantity.strip().isdigit():
        quantity = int(quantity)
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        quantity = 0
    if not 1 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = _("Enter a quantity from 1 to %(n)d.", n=MAX_QUANTITY)
    rn = data.get("registration_number")
    rn = rn.strip() if isinstance(rn, str) else ""
    if not rn:
        errors["registration_number"] = _("This field is required.")
    if errors or item is None:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    amount = Decimal(item.price_centimes * quantity) / 100
    try:
        receipt = accounts.debit(
            actor, rn, amount, f"{quantity} × {item.name}", f"example-item-{item.id}"
        )
    except NotFound as exc:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"registration_number": exc.message},
        ) from exc
    audit.record(
        "example.item.sell",
        "example_item",
        item.id,
        summary={
            "detainee": receipt.registration_number,
            "quantity": quantity,
            "amount": f"{receipt.amount:.2f}",
            "receipt": receipt.receipt_number,
        },
        actor=actor,
    )
    return receipt


def seed_demo_items(sess: Session) -> None:
    """A few believable rows for ``idmaj demo seed``."""
    for name, category, centimes in (
        ("Savon de Marseille", "hygiene", 450),
        ("Thé vert (200 g)", "food", 1200),
        ("Dattes Mejhoul (500 g)", "food", 3500),
        ("Cahier 96 pages", "stationery", 800),
    ):
        sess.add(ExampleItem(name=name, category=category, price_centimes=centimes))
    sess.flush()


def item_json(item: ExampleItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "category": item.category,
        "price": format_price(item.price_centimes),
        "notes": item_notes(item),
    }
