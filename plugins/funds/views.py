"""The accountant's pages: accounts, statement (printable, CSV), movement forms, wage runs,
the daily journal, the cash reconciliation and the establishment's settings."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from core.csv_safety import write_rows
from core.db import session as db_session
from core.detainees.models import Detainee
from core.errors import DomainError, NotFound
from core.establishments.models import Establishment
from core.establishments.services import get_by_code
from core.forms import claim, complete
from core.i18n import show_centimes
from core.portal.access import apply_errors, permission_required
from core.query_args import page_number, query_date
from core.validation import ascii_digits
from plugins.funds import forms, services
from plugins.funds.models import Account, LedgerAccount, LedgerKind

bp = Blueprint(
    "funds",
    __name__,
    url_prefix="/funds",
    template_folder=str(Path(__file__).parent / "templates"),
    static_folder=str(Path(__file__).parent / "static"),
)
PER_PAGE = 20


@bp.app_template_filter("mad")
def mad_filter(centimes: int | None) -> str:
    """Centimes shown in the current locale with two decimals (``1 234,50``)."""
    return show_centimes(centimes)


@bp.app_template_filter("money")
def money_filter(centimes: int | None) -> str:
    """An amount with its currency in the page's language: ``1 234,50 درهم`` on Arabic pages,
    ``1 234,50 DH`` on French ones, ``1,234.50 MAD`` on English ones."""
    if centimes is None:
        return ""
    return _("%(amount)s MAD", amount=mad_filter(centimes))


# the label helpers are template globals: the same functions on every page (a context
# processor would hand them over again at each render)
bp.add_app_template_global(services.tx_label, "funds_tx_label")
bp.add_app_template_global(services.ledger_label, "funds_ledger_label")
bp.add_app_template_global(services.memo_label, "funds_memo_label")


def _page() -> int:
    return page_number(request.args.get("page"))


def _view(rn: str) -> services.AccountView:
    try:
        return services.view_account(rn, current_user)
    except NotFound:
        abort(404)


def _establishment(code: str) -> Establishment:
    try:
        return get_by_code(code, current_user)
    except NotFound:
        abort(404)


@bp.get("/")
@permission_required("funds.view")
def index() -> Any:
    q = ascii_digits(request.args.get("q", "")).strip()[:40]
    if q:
        return redirect(url_for("funds.account", rn=q))
    ests = services.visible_establishments(current_user)
    code = request.args.get("establishment") or (ests[0].code if ests else "")
    est = next((e for e in ests if e.code == code), None)
    page = _page()
    rows: list[Any] = []
    total = 0
    if est is not None:
        sess = db_session()
        base = select(Account).where(Account.establishment_id == est.id)
        total = int(sess.scalar(select(func.count()).select_from(base.subquery())) or 0)
        accounts = list(
            sess.scalars(
                base.join(Detainee, Detainee.id == Account.detainee_id)
                .order_by(Detainee.registration_number.desc())
                .offset((page - 1) * PER_PAGE)
                .limit(PER_PAGE)
            )
        )
        balances: dict[int, dict[LedgerKind, int]] = {}
        if accounts:
            for account_id, kind, balance in sess.execute(
                select(LedgerAccount.account_id, LedgerAccount.kind, LedgerAccount.balance).where(
                    LedgerAccount.account_id.in_([a.id for a in accounts])
                )
            ):
                balances.setdefault(account_id, {})[kind] = int(balance)
        rows = [(a, balances.get(a.id, {})) for a in accounts]
    return render_template(
        "funds/index.html",
        establishments=ests,
        est=est,
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        LedgerKind=LedgerKind,
    )


@bp.get("/accounts/<rn>")
@permission_required("funds.view")
def account(rn: str) -> Any:
    view = _view(rn)
    page = _page()
    items, total = services.movements(view.account, page, PER_PAGE)
    db_session().commit()  # the read may be audited
    return render_template(
        "funds/account.html",
        view=view,
        funds_items=items,
        total=total,
        page=page,
        per_page=PER_PAGE,
    )


@bp.get("/accounts/<rn>/statement")
@permission_required("funds.view")
def statement(rn: str) -> Any:
    view = _view(rn)
    lines = services.statement(view.account)
    db_session().commit()
    return render_template("funds/statement.html", view=view, lines=lines, now=services.utcnow())


@bp.get("/accounts/<rn>/statement.csv")
@permission_required("funds.view")
def statement_csv(rn: str) -> Any:
    view = _view(rn)
    lines = services.statement(view.account)
    db_session().commit()
    out = io.StringIO()
    header = ["date", "receipt_number", "type", "memo", "credit", "debit", "balance", "currency"]
    rows = (
        [
            item.transaction.created_at.isoformat(),
            item.transaction.receipt_number,
            item.transaction.type.value,
            services.memo_label(item.transaction.memo),
            _amount(item.net) if item.net > 0 else "",
            _amount(-item.net) if item.net < 0 else "",
            _amount(running),
            "MAD",
        ]
        for item, running in lines
    )
    write_rows(csv.writer(out), [header, *rows])
    name = f"statement-{view.detainee.registration_number}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _amount(centimes: int) -> Decimal:
    """A money cell: a number (``-12.50`` stays readable), not text to escape (core.csv_safety)."""
    return Decimal(centimes).scaleb(-2)


def _movement_page(
    rn: str,
    form_class: type,
    template_title: str,
    action: Callable[[Any, Any], Any],
    success: str,
    submit_label: str,
) -> Any:
    view = _view(rn)
    form = form_class()
    if form.validate_on_submit():
        replay = claim(form, current_user)  # the same form again: its first result
        if replay is not None:
            return replay
        try:
            tx = action(view.detainee, form)
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template(
                "funds/movement_form.html",
                view=view,
                form=form,
                title=template_title,
                submit_label=submit_label,
            ), exc.status
        if getattr(tx, "receipt_number", None):
            target = url_for("funds.receipt", tx_id=tx.id)
        else:
            target = url_for("funds.account", rn=rn)
        complete(form, target)
        db_session().commit()
        flash(success, "success")
        return redirect(target)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "funds/movement_form.html",
        view=view,
        form=form,
        title=template_title,
        submit_label=submit_label,
    ), status


@bp.route("/accounts/<rn>/deposit", methods=["GET", "POST"])
@permission_required("funds.write")
def deposit(rn: str) -> Any:
    def act(det: Detainee, form: forms.DepositForm) -> Any:
        return services.deposit(
            det,
            current_user,
            amount=form.amount.data,
            source=form.source.data,
            depositor_name=form.depositor_name.data or "",
            depositor_national_id=form.depositor_national_id.data or "",
            memo=form.memo.data or "",
            allow_comma=True,
        )

    return _movement_page(
        rn,
        forms.DepositForm,
        _("Deposit"),
        act,
        _("The deposit was recorded."),
        _("Record the deposit"),
    )


@bp.route("/accounts/<rn>/purchase", methods=["GET", "POST"])
@permission_required("funds.write")
def purchase(rn: str) -> Any:
    def act(det: Detainee, form: forms.PurchaseForm) -> Any:
        return services.purchase(
            det, current_user, amount=form.amount.data, memo=form.memo.data or "", allow_comma=True
        )

    return _movement_page(
        rn,
        forms.PurchaseForm,
        _("Canteen purchase"),
        act,
        _("The purchase was recorded."),
        _("Record the purchase"),
    )


@bp.route("/accounts/<rn>/withdraw", methods=["GET", "POST"])
@permission_required("funds.write")
def withdraw(rn: str) -> Any:
    def act(det: Detainee, form: forms.WithdrawalForm) -> Any:
        return services.withdraw(
            det, current_user, amount=form.amount.data, reason=form.reason.data, allow_comma=True
        )

    return _movement_page(
        rn,
        forms.WithdrawalForm,
        _("Withdrawal"),
        act,
        _("The withdrawal was recorded."),
        _("Record the withdrawal"),
    )


@bp.route("/accounts/<rn>/fee", methods=["GET", "POST"])
@permission_required("funds.write")
def fee(rn: str) -> Any:
    def act(det: Detainee, form: forms.FeeForm) -> Any:
        return services.charge_fee(
            det, current_user, amount=form.amount.data, memo=form.memo.data, allow_comma=True
        )

    return _movement_page(
        rn, forms.FeeForm, _("Fee"), act, _("The fee was recorded."), _("Record the fee")
    )


@bp.route("/accounts/<rn>/hold", methods=["GET", "POST"])
@permission_required("funds.write")
def hold(rn: str) -> Any:
    def act(det: Detainee, form: forms.HoldForm) -> Any:
        return services.set_hold(det, current_user, amount=form.amount.data, memo=form.memo.data)

    return _movement_page(
        rn,
        forms.HoldForm,
        _("Money on hold"),
        act,
        _("The hold was updated."),
        _("Save"),
    )


def _tx(tx_id: int) -> Any:
    try:
        return services.get_transaction(tx_id, current_user)
    except NotFound:
        abort(404)


@bp.get("/transactions/<int:tx_id>/receipt")
@permission_required("funds.view")
def receipt(tx_id: int) -> Any:
    tx = _tx(tx_id)
    return render_template("funds/receipt.html", tx=tx)


@bp.route("/transactions/<int:tx_id>/reverse", methods=["GET", "POST"])
@permission_required("funds.write")
def reverse(tx_id: int) -> Any:
    tx = _tx(tx_id)
    form = forms.ReversalForm()
    if form.validate_on_submit():
        replay = claim(form, current_user)
        if replay is not None:
            return replay
        try:
            reversal = services.reverse(tx, current_user, memo=form.memo.data)
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("funds/reverse.html", tx=tx, form=form), exc.status
        target = url_for("funds.receipt", tx_id=reversal.id)
        complete(form, target)
        db_session().commit()
        flash(_("The movement was reversed."), "success")
        return redirect(target)
    status = 422 if request.method == "POST" else 200
    return render_template("funds/reverse.html", tx=tx, form=form), status


def parse_wage_lines(text: str) -> list[services.WageLine]:
    lines = []
    for raw in (text or "").splitlines():
        parts = raw.replace(";", " ").replace("\t", " ").split()
        if not parts:
            continue
        lines.append(services.WageLine(parts[0], parts[1] if len(parts) > 1 else ""))
    return lines


@bp.route("/<code>/wages", methods=["GET", "POST"])
@permission_required("funds.write")
def wages(code: str) -> Any:
    est = _establishment(code)
    form = forms.WageRunForm()
    settings = services.settings_for(est.id)
    if form.validate_on_submit():
        replay = claim(form, current_user)
        if replay is not None:
            return replay
        try:
            txs = services.wage_run(
                est,
                current_user,
                workshop=form.workshop.data,
                lines=parse_wage_lines(form.lines.data),
                allow_comma=False,
            )
        except DomainError as exc:
            db_session().rollback()
            problems = [str(v) for v in exc.fields.values()]
            exc.fields.clear()
            form.lines.errors = list(form.lines.errors) + problems
            apply_errors(form, exc)
            return render_template(
                "funds/wages.html", est=est, form=form, settings=settings
            ), exc.status
        target = url_for("funds.journal", code=est.code)
        complete(form, target)
        db_session().commit()
        flash(
            ngettext(
                "Wages paid to %(num)d detainee (run %(batch)s).",
                "Wages paid to %(num)d detainees (run %(batch)s).",
                len(txs),
                batch=txs[0].batch if txs else "",
            ),
            "success",
        )
        return redirect(target)
    db_session().commit()
    status = 422 if request.method == "POST" else 200
    return render_template("funds/wages.html", est=est, form=form, settings=settings), status


@bp.get("/<code>/journal")
@permission_required("funds.view")
def journal(code: str) -> Any:
    est = _establishment(code)
    raw = request.args.get("date", "")
    try:
        day = query_date(raw) if raw else services.today_local()
    except ValueError:
        day = services.today_local()
        flash(_("Enter a date as YYYY-MM-DD."), "error")
    result = services.journal(est, day, current_user)
    return render_template(
        "funds/journal.html",
        journal=result,
        previous=day - dt.timedelta(days=1),
        following=day + dt.timedelta(days=1),
    )


@bp.route("/<code>/cash", methods=["GET", "POST"])
@permission_required("funds.write")
def cash(code: str) -> Any:
    est = _establishment(code)
    form = forms.CashCountForm()
    if form.validate_on_submit():
        replay = claim(form, current_user)
        if replay is not None:
            return replay
        try:
            count = services.reconcile_cash(
                est, current_user, counted=form.counted.data, note=form.note.data or ""
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return _cash_page(est, form), exc.status
        target = url_for("funds.cash", code=est.code)
        complete(form, target)
        db_session().commit()
        if count.difference:
            flash(
                _(
                    "Difference of %(diff)s MAD recorded.",
                    diff=services.money(count.difference),
                ),
                "warning",
            )
        else:
            flash(_("The cash matches the ledger."), "success")
        return redirect(target)
    status = 422 if request.method == "POST" else 200
    return _cash_page(est, form), status


def _cash_page(est: Establishment, form: Any) -> str:
    expected = services.cash_on_ledger(est)
    counts = services.cash_counts(est)
    db_session().commit()
    return render_template("funds/cash.html", est=est, form=form, expected=expected, counts=counts)


@bp.route("/<code>/settings", methods=["GET", "POST"])
@permission_required("funds.write")
def settings(code: str) -> Any:
    est = _establishment(code)
    row = services.settings_for(est.id)
    form = forms.SettingsForm()
    if request.method == "GET":
        form.savings_share_pct.data = str(row.savings_share_pct)
        form.weekly_limit.data = services.money(row.weekly_limit) if row.weekly_limit else ""
        form.deposit_ceiling.data = services.money(row.deposit_ceiling)
        db_session().commit()
    elif form.validate_on_submit():
        try:
            services.update_settings(
                est,
                current_user,
                savings_share_pct=form.savings_share_pct.data,
                weekly_limit=form.weekly_limit.data,
                deposit_ceiling=form.deposit_ceiling.data,
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("funds/settings.html", est=est, form=form), exc.status
        db_session().commit()
        flash(_("The settings were saved."), "success")
        return redirect(url_for("funds.settings", code=est.code))
    status = 422 if request.method == "POST" else 200
    return render_template("funds/settings.html", est=est, form=form), status


__all__ = ["bp", "parse_wage_lines"]
