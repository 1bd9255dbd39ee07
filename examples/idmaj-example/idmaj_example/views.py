"""Pages: the catalogue (blueprint ``example``, URL prefix ``/example``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.db import session as db_session
from core.errors import DomainError
from core.identity.services import has_permission
from core.portal.access import apply_errors, permission_required
from idmaj_example import services
from idmaj_example.forms import ItemForm, SellForm

bp = Blueprint("example", __name__, url_prefix="/example", template_folder="templates")


def _form() -> ItemForm:
    form = ItemForm()
    form.category.choices = [(c, str(label)) for c, label in services.CATEGORY_LABELS.items()]
    return form


def _sell_form(items: list[Any]) -> SellForm:
    form = SellForm()
    form.item.choices = [
        (str(i.id), f"{i.name} — {services.format_price(i.price_centimes)} MAD") for i in items
    ]
    return form


def _page(form: ItemForm, status: int = 200, sell_form: SellForm | None = None) -> Any:
    items = services.list_items(current_user)
    can_manage = has_permission(current_user, "example.manage")
    can_sell = services.can_sell(current_user)
    return render_template(
        "example/index.html",
        catalogue=items,
        notes={item.id: services.item_notes(item) for item in items},
        form=form,
        can_manage=can_manage,
        can_sell=can_sell,
        sell_form=sell_form or (_sell_form(items) if can_sell else None),
        category_label=services.category_label,
        format_price=services.format_price,
    ), status


@bp.get("/")
@permission_required("example.view")
def index() -> Any:
    return _page(_form())


@bp.post("/")
@permission_required("example.manage")
def create() -> Any:
    form = _form()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        item = services.add_item(form.data, current_user)
    except DomainError as exc:
        db_session().rollback()
        apply_errors(form, exc)
        return _page(form, exc.status)
    db_session().commit()
    flash(_("%(name)s was added to the catalogue.", name=item.name), "success")
    return redirect(url_for("example.index"))


@bp.post("/sell")
@permission_required("example.sell")
def sell() -> Any:
    if not services.can_sell(current_user):
        abort(404)  # no module provides detainee accounts: the feature is not there
    form = _sell_form(services.list_items(current_user))
    if not form.validate_on_submit():
        return _page(_form(), 422, form)
    try:
        receipt = services.sell_item(form.data, current_user)
    except DomainError as exc:
        db_session().rollback()
        apply_errors(form, exc)
        return _page(_form(), exc.status, form)
    db_session().commit()
    amount = format(receipt.amount, ".2f")
    flash(
        _(
            "%(amount)s MAD debited from %(rn)s (receipt %(receipt)s).",
            amount=amount,
            rn=receipt.registration_number,
            receipt=receipt.receipt_number,
        ),
        "success",
    )
    return redirect(url_for("example.index"))
