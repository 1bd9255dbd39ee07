"""A user's own account pages: name and phone, the download of their data, closing."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from core.db import session as db_session
from core.errors import DomainError
from core.identity import account
from core.identity.forms import CloseAccountForm, ProfileForm
from core.identity.models import User
from core.identity.privacy import display_phone
from core.portal.access import apply_errors

bp = Blueprint("account", __name__, url_prefix="/account")


def _me() -> User:
    user = db_session().get(User, current_user.id)
    if user is None:
        abort(404)
    return user


@bp.route("", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    user = _me()
    form = ProfileForm(obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.phone.data = display_phone(user.phone)
    if form.validate_on_submit():
        try:
            account.update_profile(
                user, full_name=form.full_name.data or "", phone=form.phone.data or ""
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template(
                "auth/account.html", form=form, can_close=account.can_close(user)
            ), exc.status
        db_session().commit()
        flash(_("Your details were saved."), "success")
        return redirect(url_for("account.profile"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "auth/account.html", form=form, can_close=account.can_close(user)
    ), status


@bp.get("/data")
@login_required
def data() -> Any:
    user = _me()
    sections = account.export_sections(user)
    db_session().commit()
    from core.audit.presentation import vocabulary

    # the readable page names actions and record types in the reader's words (the JSON keeps
    # the codes)
    vocab = vocabulary()
    return render_template("auth/data.html", sections=sections, vocab=vocab)


@bp.get("/data.json")
@login_required
def data_json() -> Any:
    user = _me()
    payload = account.export_json(user)
    db_session().commit()
    body = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="idmaj-my-data.json"'},
    )


@bp.route("/close", methods=["GET", "POST"])
@login_required
def close() -> Any:
    user = _me()
    if not account.can_close(user):
        abort(403)
    form = CloseAccountForm()
    if form.validate_on_submit():
        try:
            account.close_account(user, form.password.data or "")
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("auth/close.html", form=form), exc.status
        db_session().commit()
        logout_user()
        flash(_("Your account is closed. Your personal details were erased."), "info")
        return redirect(url_for("portal.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/close.html", form=form), status
