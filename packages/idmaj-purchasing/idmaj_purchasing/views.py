"""Pages. Families (blueprint ``purchasing``, ``/shop``): choose a linked detainee, the
catalogue with what is left this week, the cart, orders. The shop (blueprint
``purchasing_shop``, ``/purchasing``): orders and their handling, the catalogue, the
agency's settlement files, the day's preparation list, figures and rules. No JavaScript:
quantities are typed, the cart lives in the session until it is confirmed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.db import session as db_session
from core.detainees.services import get_detainee
from core.errors import DomainError
from core.establishments.models import Establishment
from core.forms import claim, complete
from core.i18n import current_language
from core.identity.services import has_permission
from core.portal.access import apply_errors, login_required_for, permission_required
from core.query_args import page_number
from core.scoping import establishment_ids
from idmaj_purchasing import forms, services
from idmaj_purchasing.models import CATEGORIES, UNITS, Order, OrderStatus

family = Blueprint("purchasing", __name__, url_prefix="/shop", template_folder="templates")
shop = Blueprint("purchasing_shop", __name__, url_prefix="/purchasing", template_folder="templates")
PER_PAGE = 20
CART = "purchasing_cart"


@family.app_template_global("purchasing_status")
def _status(code: Any) -> str:
    return services.status_label(code)


@family.app_template_global("purchasing_category")
def _category(code: str) -> str:
    return services.category_label(code)


@family.app_template_global("purchasing_unit")
def _unit(code: str) -> str:
    return services.unit_label(code)


@family.app_template_global("purchasing_payment")
def _payment(code: str) -> str:
    return services.common.payment_label(code)


@family.app_template_global("purchasing_reason")
def _reason(code: str) -> str:
    return services.reason_label(code)


@family.app_template_global("purchasing_mad")
def _mad(centimes: int) -> str:
    """Centimes in the reader's number format, with the currency: "1,234.50 MAD"."""
    from core.i18n import show_centimes

    return _("%(amount)s MAD", amount=show_centimes(centimes))


def _fail(form: Any, exc: DomainError) -> None:
    db_session().rollback()
    apply_errors(form, exc)


# --------------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------------


def _family_detainee(rn: str) -> Any:
    if not services.can_order(current_user):
        abort(404)
    try:
        return services.detainee_for(current_user, rn)
    except DomainError:
        abort(404)


def _cart() -> dict[str, Any]:
    cart = session.get(CART)
    return cart if isinstance(cart, dict) else {}


@family.get("/")
@login_required_for("visitor")
def index() -> Any:
    detainees = services.linked_detainees(current_user)
    orders, _total = services.family_orders(current_user, 1, 5)
    return render_template(
        "purchasing/family_index.html",
        detainees=detainees,
        orders=orders,
        can_order=services.can_order(current_user),
    )


def _catalogue_page(det: Any, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    products, _n = services.catalogue(det.establishment_id)
    shop_rules = services.rules_for(det.establishment_id)
    forbidden = services.forbidden_categories(det, rules=shop_rules)
    week = services.week_of(det, rules=shop_rules)
    left = services.caps_for(det, products, week)
    cart = _cart()
    wanted = cart.get("items", {}) if cart.get("detainee") == det.registration_number else {}
    form = forms.PlainForm()
    return render_template(
        "purchasing/catalogue.html",
        det=det,
        products=products,
        forbidden=forbidden,
        week=week,
        left=left,
        wanted=wanted,
        errors=errors or {},
        form=form,
        values=request.form if request.method == "POST" else {},
    ), status


@family.get("/for/<rn>")
@login_required_for("visitor")
def catalogue(rn: str) -> Any:
    return _catalogue_page(_family_detainee(rn))


@family.post("/for/<rn>")
@login_required_for("visitor")
def fill_cart(rn: str) -> Any:
    det = _family_detainee(rn)
    form = forms.PlainForm()
    if not form.validate_on_submit():
        abort(400)
    products, _n = services.catalogue(det.establishment_id)
    items: dict[str, int] = {}
    errors: dict[str, str] = {}
    for p in products:
        raw = (request.form.get(f"q{p.id}") or "").strip()
        if not raw:
            continue
        qty = services.common.parse_count(raw, maximum=50)
        if qty is None:
            errors[str(p.id)] = _("Enter a quantity from 0 to %(n)d.", n=50)
        elif qty:
            items[str(p.id)] = qty
    if not items and not errors:
        flash(_("Choose at least one product."), "error")
        return _catalogue_page(det, status=422)
    if errors:
        return _catalogue_page(det, errors, 422)
    session[CART] = {"detainee": det.registration_number, "items": items}
    return redirect(url_for("purchasing.cart", rn=det.registration_number))


def _cart_lines(det: Any) -> tuple[list[tuple[Any, int]], int]:
    cart = _cart()
    if cart.get("detainee") != det.registration_number:
        return [], 0
    products, _n = services.catalogue(det.establishment_id)
    by_id = {str(p.id): p for p in products}
    lines = [(by_id[k], int(q)) for k, q in cart.get("items", {}).items() if k in by_id]
    return lines, sum(p.price_centimes * q for p, q in lines)


def _confirm_form(det: Any) -> forms.ConfirmOrderForm:
    form = forms.ConfirmOrderForm()
    offered = services.offered_methods(det)
    form.payment.choices = [(m.code, str(m.label)) for m in offered]
    if not form.payment.data and offered:
        form.payment.data = offered[0].code
    return form


def _cart_page(det: Any, form: Any, status: int = 200) -> Any:
    lines, total = _cart_lines(det)
    return render_template(
        "purchasing/cart.html",
        det=det,
        lines=lines,
        total=total,
        week=services.week_of(det),
        form=form,
    ), status


@family.get("/for/<rn>/cart")
@login_required_for("visitor")
def cart(rn: str) -> Any:
    det = _family_detainee(rn)
    return _cart_page(det, _confirm_form(det))


@family.post("/for/<rn>/cart")
@login_required_for("visitor")
def confirm(rn: str) -> Any:
    det = _family_detainee(rn)
    form = _confirm_form(det)
    lines, _total = _cart_lines(det)
    if not form.validate_on_submit():
        return _cart_page(det, form, 422)
    replay = claim(form, current_user)  # a double click: the first order's page
    if replay is not None:
        return replay
    if not lines:
        db_session().rollback()
        flash(_("Choose at least one product."), "error")
        return _cart_page(det, form, 422)
    items = [{"product_id": p.id, "quantity": q} for p, q in lines]
    try:
        order = services.place_order(
            current_user, det.registration_number, items, form.payment.data
        )
    except DomainError as exc:
        _fail(form, exc)
        for message in exc.fields.values():
            if str(message) not in [str(e) for e in form.payment.errors]:
                flash(str(message), "error")
        if not exc.fields:
            flash(str(exc.message), "error")
        return _cart_page(det, form, exc.status)
    target = url_for("purchasing.order", reference=order.reference)
    complete(form, target)
    db_session().commit()
    session.pop(CART, None)
    flash(_("Your order %(ref)s is placed.", ref=order.reference), "success")
    return redirect(target)


@family.get("/orders")
@login_required_for("visitor")
def my_orders() -> Any:
    page = page_number(request.args.get("page"))
    orders, total = services.family_orders(current_user, page, PER_PAGE)
    return render_template(
        "purchasing/my_orders.html", orders=orders, total=total, page=page, per_page=PER_PAGE
    )


def _family_order(reference: str) -> Order:
    try:
        order = services.get_order(reference, current_user)
    except DomainError:
        abort(404)
    if order.family_id != current_user.id:
        abort(404)
    return order


@family.get("/orders/<reference>")
@login_required_for("visitor")
def order(reference: str) -> Any:
    found = _family_order(reference)
    return render_template(
        "purchasing/family_order.html",
        order=found,
        form=forms.PlainForm(),
        cancellable=found.status in services.CANCELLABLE,
    )


@family.post("/orders/<reference>/cancel")
@login_required_for("visitor")
def family_cancel(reference: str) -> Any:
    found = _family_order(reference)
    form = forms.PlainForm()
    if form.validate_on_submit():
        try:
            services.cancel(found, current_user)
            db_session().commit()
            flash(_("The order is cancelled."), "success")
        except DomainError as exc:
            db_session().rollback()
            flash(str(exc.message), "error")
    return redirect(url_for("purchasing.order", reference=found.reference))


# --------------------------------------------------------------------------------------------
# The shop
# --------------------------------------------------------------------------------------------


def _establishments() -> list[Establishment]:
    ids = establishment_ids(current_user)
    stmt = select(Establishment).where(Establishment.active.is_(True)).order_by(Establishment.code)
    if ids is not None:
        stmt = stmt.where(Establishment.id.in_(sorted(ids)))
    return list(db_session().scalars(stmt))


def _chosen(ests: list[Establishment]) -> Establishment | None:
    code = (request.values.get("establishment") or "").strip().upper()
    return next((e for e in ests if e.code == code), ests[0] if ests else None)


def _est_choices(ests: list[Establishment]) -> list[tuple[str, str]]:
    return [(e.code, e.name(current_language())) for e in ests]


@shop.get("/")
@permission_required("purchasing.view")
def orders() -> Any:
    status = request.args.get("status") or None
    if status not in services.STATUS_LABELS:
        status = None
    ests = _establishments()
    est = _chosen(ests) if request.args.get("establishment") else None
    page = page_number(request.args.get("page"))
    rows, total = services.shop_orders(
        current_user,
        status=status,
        establishment_id=est.id if est else None,
        page=page,
        per_page=PER_PAGE,
    )
    return render_template(
        "purchasing/shop_orders.html",
        orders=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        status=status,
        statuses=list(OrderStatus),
        ests=ests,
        est=est,
    )


def _shop_order(reference: str) -> Order:
    try:
        return services.get_order(reference, current_user)
    except DomainError:
        abort(404)


def _order_page(found: Order, status: int = 200, **form_overrides: Any) -> Any:
    forms_ = {
        "plain": forms.PlainForm(),
        "deliver": form_overrides.get("deliver") or forms.DeliverForm(formdata=None),
        "refuse": form_overrides.get("refuse") or forms.RefuseForm(formdata=None),
    }
    return render_template(
        "purchasing/shop_order.html",
        order=found,
        forms=forms_,
        can_manage=has_permission(current_user, "purchasing.manage"),
        cancellable=found.status in services.CANCELLABLE,
    ), status


@shop.get("/orders/<reference>")
@permission_required("purchasing.view")
def shop_order(reference: str) -> Any:
    return _order_page(_shop_order(reference))


@shop.post("/orders/<reference>/<action>")
@permission_required("purchasing.manage")
def act(reference: str, action: str) -> Any:
    found = _shop_order(reference)
    if action not in ("prepare", "deliver", "refuse", "cancel"):
        abort(404)
    form: Any = {
        "deliver": forms.DeliverForm,
        "refuse": forms.RefuseForm,
    }.get(action, forms.PlainForm)()
    if not form.validate_on_submit():
        return _order_page(found, 422, **{action: form})
    try:
        if action == "prepare":
            services.prepare(found, current_user)
        elif action == "deliver":
            services.deliver(
                found,
                current_user,
                proof=form.proof.data,
                pin=form.pin.data or "",
                signed=form.signed.data,
            )
        elif action == "refuse":
            services.refuse(found, current_user, reason=form.reason.data)
        else:
            services.cancel(found, current_user)
    except DomainError as exc:
        _fail(form, exc)
        if not exc.fields:
            flash(str(exc.message), "error")
        return _order_page(_shop_order(reference), exc.status, **{action: form})
    db_session().commit()
    flash(
        _("Order %(ref)s: %(status)s.", ref=found.reference, status=_status(found.status)),
        "success",
    )
    return redirect(url_for("purchasing_shop.shop_order", reference=found.reference))


def _product_form(ests: list[Establishment], cls: Any = forms.ProductForm) -> Any:
    form = cls()
    if hasattr(form, "establishment"):
        form.establishment.choices = _est_choices(ests)
    form.category.choices = [(c, services.category_label(c)) for c in CATEGORIES]
    form.unit.choices = [(u, services.unit_label(u)) for u in UNITS]
    return form


def _products_page(form: Any, status: int = 200) -> Any:
    ests = _establishments()
    est = _chosen(ests)
    products = services.shop_products(current_user, est.id if est else None) if est else []
    return render_template(
        "purchasing/shop_catalogue.html",
        products=products,
        form=form,
        ests=ests,
        est=est,
        can_manage=has_permission(current_user, "purchasing.manage"),
    ), status


@shop.get("/catalogue")
@permission_required("purchasing.view")
def products() -> Any:
    form = _product_form(_establishments())
    est = _chosen(_establishments())
    if est is not None:
        form.establishment.data = est.code
    return _products_page(form)


@shop.post("/catalogue")
@permission_required("purchasing.manage")
def add_product() -> Any:
    form = _product_form(_establishments())
    if not form.validate_on_submit():
        return _products_page(form, 422)
    data = {k: form.data[k] for k in ("establishment", "name_fr", "name_ar", "category", "unit")}
    data.update(price=form.price.data, stock=form.stock.data, max_per_week=form.max_per_week.data)
    try:
        product = services.add_product(data, current_user)
    except DomainError as exc:
        _fail(form, exc)
        return _products_page(form, exc.status)
    db_session().commit()
    flash(
        _("%(name)s was added to the catalogue.", name=product.name(current_language())), "success"
    )
    return redirect(url_for("purchasing_shop.products", establishment=product.establishment.code))


def _edit_page(product: Any, form: Any, status: int = 200) -> Any:
    return render_template("purchasing/product.html", product=product, form=form), status


@shop.get("/products/<int:product_id>")
@permission_required("purchasing.manage")
def product(product_id: int) -> Any:
    try:
        found = services.get_product(product_id, current_user)
    except DomainError:
        abort(404)
    form = _product_form([], forms.ProductEditForm)
    form.name_fr.data, form.name_ar.data = found.name_fr, found.name_ar
    form.category.data, form.unit.data = found.category, found.unit
    form.price.data = services.money(found.price_centimes)
    form.max_per_week.data = str(found.max_per_week)
    form.available.data = found.available
    return _edit_page(found, form)


@shop.post("/products/<int:product_id>")
@permission_required("purchasing.manage")
def edit_product(product_id: int) -> Any:
    try:
        found = services.get_product(product_id, current_user)
    except DomainError:
        abort(404)
    form = _product_form([], forms.ProductEditForm)
    if not form.validate_on_submit():
        return _edit_page(found, form, 422)
    data = {k: form.data[k] for k in ("name_fr", "name_ar", "category", "unit", "price")}
    data.update(
        max_per_week=form.max_per_week.data,
        add_stock=form.add_stock.data,
        available=form.available.data,
    )
    try:
        services.update_product(found, data, current_user)
    except DomainError as exc:
        _fail(form, exc)
        return _edit_page(services.get_product(product_id, current_user), form, exc.status)
    db_session().commit()
    flash(_("The product is saved."), "success")
    return redirect(url_for("purchasing_shop.products", establishment=found.establishment.code))


def _settlement_form(ests: list[Establishment]) -> forms.SettlementForm:
    form = forms.SettlementForm()
    form.establishment.choices = _est_choices(ests)
    return form


def _settlements_page(form: Any, status: int = 200) -> Any:
    return render_template(
        "purchasing/settlements.html",
        form=form,
        imports=services.settlements(current_user),
        can_manage=has_permission(current_user, "purchasing.manage"),
    ), status


@shop.get("/settlements")
@permission_required("purchasing.view")
def settlements() -> Any:
    return _settlements_page(_settlement_form(_establishments()))


@shop.post("/settlements")
@permission_required("purchasing.manage")
def import_settlement() -> Any:
    ests = _establishments()
    form = _settlement_form(ests)
    if not form.validate_on_submit():
        return _settlements_page(form, 422)
    est = next((e for e in ests if e.code == form.establishment.data), None)
    upload = request.files.get("file")
    if est is None or upload is None or not upload.filename:
        if est is None:
            form.establishment.errors = [_("Choose an establishment.")]
        else:
            form.file.errors = [_("Choose the agency's file.")]
        return _settlements_page(form, 422)
    try:
        done = services.import_settlement(
            est.id, upload.read(services.settlement.MAX_BYTES + 1), upload.filename, current_user
        )
    except DomainError as exc:
        _fail(form, exc)
        return _settlements_page(form, exc.status)
    db_session().commit()
    return redirect(url_for("purchasing_shop.settlement", settlement_id=done.id))


@shop.get("/settlements/<int:settlement_id>")
@permission_required("purchasing.view")
def settlement(settlement_id: int) -> Any:
    try:
        found = services.get_settlement(current_user, settlement_id)
    except DomainError:
        found = None
    if found is None:
        abort(404)
    ids = [line.order_id for line in found.lines if line.order_id]
    rows = db_session().execute(select(Order.id, Order.reference).where(Order.id.in_(ids)))
    refs = {oid: ref for oid, ref in rows}
    return render_template(
        "purchasing/settlement.html",
        settlement=found,
        orders=refs,
        outcome=services.outcome_label,
    )


@shop.get("/daily")
@permission_required("purchasing.view")
def daily() -> Any:
    ests = _establishments()
    est = _chosen(ests)
    sheet = services.daily_list(current_user, est.id) if est else None
    return render_template("purchasing/daily.html", sheet=sheet, ests=ests, est=est)


@shop.get("/figures")
@permission_required("purchasing.view")
def figures() -> Any:
    return render_template("purchasing/figures.html", shop=services.figures(current_user))


def _rules_form(est: Establishment | None) -> forms.RulesForm:
    form = forms.RulesForm()
    form.forbidden_categories.choices = [(c, services.category_label(c)) for c in CATEGORIES]
    if est is not None and request.method == "GET":
        rules = services.rules_for(est.id)
        form.weekly_cap.data = services.money(rules.weekly_cap_centimes)
        form.payment_hours.data = str(rules.payment_hours)
        form.forbidden_categories.data = [
            c for c in (rules.forbidden_categories or "").split(",") if c
        ]
    return form


def _rules_page(form: Any, est: Any, ests: list[Establishment], status: int = 200) -> Any:
    return render_template("purchasing/rules.html", form=form, est=est, ests=ests), status


@shop.get("/rules")
@permission_required("purchasing.rules")
def rules() -> Any:
    ests = _establishments()
    est = _chosen(ests)
    return _rules_page(_rules_form(est), est, ests)


@shop.post("/rules")
@permission_required("purchasing.rules")
def save_rules() -> Any:
    ests = _establishments()
    est = _chosen(ests)
    form = _rules_form(est)
    if est is None:
        abort(404)
    if not form.validate_on_submit():
        return _rules_page(form, est, ests, 422)
    try:
        services.update_rules(est.id, form.data, current_user)
    except DomainError as exc:
        _fail(form, exc)
        return _rules_page(form, est, ests, exc.status)
    db_session().commit()
    flash(_("The shop's rules are saved."), "success")
    return redirect(url_for("purchasing_shop.rules", establishment=est.code))


def _restriction_page(det: Any, form: Any, status: int = 200) -> Any:
    return render_template(
        "purchasing/restrictions.html",
        det=det,
        form=form,
        remove=forms.PlainForm(),
        restrictions=services.restrictions_of(det),
    ), status


def _restriction_form() -> forms.RestrictionForm:
    form = forms.RestrictionForm()
    form.category.choices = [(c, services.category_label(c)) for c in CATEGORIES]
    return form


def _staff_detainee(rn: str) -> Any:
    try:
        return get_detainee(rn, current_user)
    except DomainError:
        abort(404)


@shop.get("/detainees/<rn>/restrictions")
@permission_required("purchasing.rules")
def restrictions(rn: str) -> Any:
    return _restriction_page(_staff_detainee(rn), _restriction_form())


@shop.post("/detainees/<rn>/restrictions")
@permission_required("purchasing.rules")
def add_restriction(rn: str) -> Any:
    det = _staff_detainee(rn)
    form = _restriction_form()
    if not form.validate_on_submit():
        return _restriction_page(det, form, 422)
    try:
        services.add_restriction(det, form.category.data, form.reason.data, current_user)
    except DomainError as exc:
        _fail(form, exc)
        return _restriction_page(det, form, exc.status)
    db_session().commit()
    flash(_("The category is forbidden to this detainee."), "success")
    return redirect(url_for("purchasing_shop.restrictions", rn=det.registration_number))


@shop.post("/detainees/<rn>/restrictions/<int:restriction_id>/remove")
@permission_required("purchasing.rules")
def remove_restriction(rn: str, restriction_id: int) -> Any:
    det = _staff_detainee(rn)
    if forms.PlainForm().validate_on_submit():
        try:
            services.remove_restriction(det, restriction_id, current_user)
        except DomainError:
            abort(404)
        db_session().commit()
        flash(_("The category is allowed again."), "success")
    return redirect(url_for("purchasing_shop.restrictions", rn=det.registration_number))
