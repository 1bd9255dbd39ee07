"""The shop's catalogue at each establishment: products, prices, stock and availability."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update

from core.audit import services as audit
from core.db import session as db_session
from core.errors import Conflict, NotFound, ValidationFailed
from core.identity.services import require
from core.paging import fetch_page
from core.scoping import ensure_in_scope
from core.validation import storable
from idmaj_purchasing.models import CATEGORIES, UNITS, Product
from idmaj_purchasing.services.common import (
    MAX_PRICE,
    MAX_STOCK,
    establishment_by_code,
    money,
    parse_count,
    parse_money,
)


def _text(data: Mapping[str, Any], key: str, errors: dict[str, str], *, required: bool) -> str:
    value = data.get(key)
    value = " ".join(value.split()) if isinstance(value, str) else ""
    if not storable(value):
        errors[key] = _("This value has the wrong format.")
    elif required and not value:
        errors[key] = _("This field is required.")
    elif len(value) > 120:
        errors[key] = ngettext("At most %(num)d character.", "At most %(num)d characters.", 120)
    return value


def _product_fields(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data or "name_fr" in data:
        out["name_fr"] = _text(
            {"name_fr": data.get("name_fr", data.get("name"))}, "name_fr", errors, required=True
        )
        if "name_fr" in errors and "name" in data:
            errors["name"] = errors.pop("name_fr")
    if "name_ar" in data:
        out["name_ar"] = _text(data, "name_ar", errors, required=False)
    if "category" in data:
        if data.get("category") not in CATEGORIES:
            errors["category"] = _("Choose a category of the catalogue.")
        out["category"] = data.get("category")
    if "unit" in data:
        if data.get("unit") not in UNITS:
            errors["unit"] = _("Choose one of the allowed values.")
        out["unit"] = data.get("unit")
    if "price" in data:
        price = parse_money(data.get("price"), maximum=MAX_PRICE)
        if price is None:
            errors["price"] = _("Enter a price between 0.01 and 10000.00 MAD, like 12.50.")
        out["price_centimes"] = price
    if "stock" in data:
        stock = parse_count(data.get("stock"), maximum=MAX_STOCK)
        if stock is None:
            errors["stock"] = _("Enter a whole number from 0 to %(n)d.", n=MAX_STOCK)
        out["stock"] = stock
    if "max_per_week" in data and data.get("max_per_week") not in (None, ""):
        cap = parse_count(data.get("max_per_week"), minimum=1, maximum=100)
        if cap is None:
            errors["max_per_week"] = _("Enter a whole number from 1 to %(n)d.", n=100)
        out["max_per_week"] = cap
    if "available" in data:
        out["available"] = bool(data.get("available"))
    return out


def _duplicate() -> Conflict:
    message = _("A product of this name is already in this shop's catalogue.")
    return Conflict(message, code="duplicate_product", fields={"name_fr": message})


def add_product(data: Mapping[str, Any], actor: Any) -> Product:
    """Add a product to an establishment's catalogue (``establishment`` is its code)."""
    require(actor, "purchasing.manage")
    errors: dict[str, str] = {}
    est = establishment_by_code(data.get("establishment"))
    if est is None:
        errors["establishment"] = _("Choose an establishment.")
    if not any(k in data for k in ("name", "name_fr")):
        errors["name_fr"] = _("This field is required.")
    for key in ("category", "price", "stock"):
        if key not in data:
            errors[key] = _("This field is required.")
    fields = _product_fields(data, errors)
    if errors or est is None:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    ensure_in_scope(actor, est.id)
    sess = db_session()
    if sess.scalar(
        select(Product.id).where(
            Product.establishment_id == est.id,
            func.lower(Product.name_fr) == fields["name_fr"].lower(),
        )
    ):
        raise _duplicate()
    fields.setdefault("unit", "piece")
    product = Product(establishment_id=est.id, **fields)
    sess.add(product)
    sess.flush()
    audit.record(
        "purchasing.product.add",
        "purchasing_product",
        product.id,
        establishment_id=est.id,
        summary={
            "name": product.name_fr,
            "category": product.category,
            "price": money(product.price_centimes),
            "stock": product.stock,
        },
        actor=actor,
    )
    return product


def get_product(product_id: Any, actor: Any) -> Product:
    """A product of the actor's establishments (others do not exist for them)."""
    require(actor, "purchasing.view")
    pid = parse_count(product_id, maximum=2**31 - 1)
    product = db_session().get(Product, pid) if pid else None
    if product is None:
        raise NotFound(_("No such product."), code="product_not_found")
    ensure_in_scope(actor, product.establishment_id)
    return product


def update_product(product: Product, data: Mapping[str, Any], actor: Any) -> Product:
    """Change a product's names, category, unit, price, weekly cap or availability; ``stock``
    here sets the counted stock (a stock-take), ``add_stock`` adds a delivery to it."""
    require(actor, "purchasing.manage")
    ensure_in_scope(actor, product.establishment_id)
    errors: dict[str, str] = {}
    fields = _product_fields(data, errors)
    added = None
    if data.get("add_stock") not in (None, ""):
        added = parse_count(data.get("add_stock"), minimum=1, maximum=MAX_STOCK)
        if added is None:
            errors["add_stock"] = _("Enter a whole number from 1 to %(n)d.", n=MAX_STOCK)
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    sess = db_session()
    name = fields.get("name_fr")
    if (
        name
        and name.lower() != product.name_fr.lower()
        and sess.scalar(
            select(Product.id).where(
                Product.establishment_id == product.establishment_id,
                func.lower(Product.name_fr) == name.lower(),
            )
        )
    ):
        raise _duplicate()
    changes: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "stock":
            continue
        if getattr(product, key) != value:
            changes[key] = [getattr(product, key), value]
            setattr(product, key, value)
    sess.flush()
    if "stock" in fields or added:
        # a conditional UPDATE: orders reserving at this moment are not overwritten
        if "stock" in fields:
            new = sess.execute(
                update(Product)
                .where(Product.id == product.id)
                .values(stock=fields["stock"] + (added or 0))
                .returning(Product.stock)
            ).scalar_one()
        else:
            new = sess.execute(
                update(Product)
                .where(Product.id == product.id, Product.stock + added <= MAX_STOCK)
                .values(stock=Product.stock + added)
                .returning(Product.stock)
            ).scalar()
            if new is None:
                raise ValidationFailed(
                    _("Please correct the highlighted fields."),
                    fields={"add_stock": _("Enter a whole number from 1 to %(n)d.", n=MAX_STOCK)},
                )
        changes["stock"] = [product.stock, new]
        sess.refresh(product)
    if "price_centimes" in changes:
        changes["price_centimes"] = [money(v) for v in changes["price_centimes"]]
    if changes:
        audit.record(
            "purchasing.product.update",
            "purchasing_product",
            product.id,
            establishment_id=product.establishment_id,
            summary=changes,
            actor=actor,
        )
    return product


def shop_products(actor: Any, establishment_id: int | None = None) -> list[Product]:
    """The catalogue as the shop manages it (every product, available or not)."""
    require(actor, "purchasing.view")
    stmt = select(Product).order_by(Product.establishment_id, Product.category, Product.name_fr)
    if establishment_id is not None:
        stmt = stmt.where(Product.establishment_id == establishment_id)
    return list(db_session().scalars(stmt))


def catalogue(
    establishment_id: int, page: int = 1, per_page: int = 200
) -> tuple[list[Product], int]:
    """What families see: the establishment's products, available ones first (paged in SQL)."""
    base = select(Product).where(Product.establishment_id == establishment_id)
    order = (Product.available.desc(), Product.category, Product.name_fr, Product.id)
    return fetch_page(db_session(), base, order, page, per_page)


def product_json(product: Product, locale: str | None = None) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name_fr,
        "name_ar": product.name_ar,
        "category": product.category,
        "unit": product.unit,
        "price": money(product.price_centimes),
        "available": bool(product.available and product.stock > 0),
        "stock": product.stock,
        "max_per_week": product.max_per_week,
        "establishment": product.establishment.code,
    }
