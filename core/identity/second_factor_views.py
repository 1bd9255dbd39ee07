"""The second factor's pages: sign-in's second step, a staff member's set-up, and central
administration's choice of the roles that require it (rules in :mod:`core.identity.totp`)."""

from __future__ import annotations

import time
from typing import Any

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.globals import _cv_request
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from markupsafe import Markup

from core.api.toolkit import API_PREFIX
from core.audit import services as audit
from core.db import session as db_session
from core.errors import DomainError, Unauthorized
from core.identity import throttle, totp
from core.identity.forms import (
    CodeForm,
    DisableSecondFactorForm,
    SecondFactorRolesForm,
    StartSecondFactorForm,
)
from core.identity.models import User
from core.identity.roles import role_label, role_registry
from core.portal.access import apply_errors
from core.principals import request_user
from core.redirects import safe_next

bp = Blueprint("second_factor", __name__)

PENDING_KEY = "pending_sign_in"
PENDING_SECONDS = 300
# pages a user who must enrol can still open
OPEN_WHILE_ENROLLING = frozenset(
    {
        "second_factor.manage",
        "second_factor.start",
        "second_factor.confirm",
        "auth.logout",
        "portal.choose_language",
        "static",
    }
)


def ask_for_code(user: User, next_url: str | None) -> Any:
    """Sign-in's first step passed for a user with a second factor: remember who (for five
    minutes, in the signed session cookie) and ask for the code."""
    session[PENDING_KEY] = {
        "user": user.id,
        "version": user.session_version,
        "until": int(time.time()) + PENDING_SECONDS,
        "next": next_url or "",
    }
    return redirect(url_for("second_factor.code"))


def _pending_user() -> tuple[User | None, str]:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or int(pending.get("until", 0)) < time.time():
        return None, ""
    user = db_session().get(User, int(pending.get("user", 0)))
    if user is None or not user.is_active or user.session_version != pending.get("version"):
        return None, ""
    return user, str(pending.get("next") or "")


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> Any:
    user, next_url = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        attempt = throttle.begin(user.username)
        db_session().commit()
        try:
            totp.check_code(user, form.otp.data)
        except Unauthorized as exc:
            db_session().rollback()
            throttle.failed(attempt)
            audit.record("user.login.failed", "user", user.username, summary={"step": "code"})
            db_session().commit()
            form.otp.errors = [str(exc.message)]
            return render_template("auth/code.html", form=form), 401
        throttle.succeeded(attempt)
        session.pop(PENDING_KEY, None)
        login_user(user)
        audit.record("user.login", "user", user.id, actor=user)
        db_session().commit()
        default = url_for("portal.dashboard") if user.is_staff else url_for("portal.home")
        return redirect(safe_next(next_url, default))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/code.html", form=form), status


def _manage_page(status: int = 200, **forms: Any) -> Any:
    user = current_user
    secret = totp.pending_secret(user)
    uri = totp.provisioning_uri(user, secret) if secret else None
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=4)) if uri else None  # our own URI
    return render_template(
        "auth/two_factor.html",
        enabled=totp.has_second_factor(user),
        required=totp.second_factor_required(user),
        secret=secret,
        uri=uri,
        qr=qr,
        start_form=forms.get("start_form") or StartSecondFactorForm(),
        confirm_form=forms.get("confirm_form") or CodeForm(),
        disable_form=forms.get("disable_form") or DisableSecondFactorForm(),
    ), status


def _staff_only() -> None:
    if not current_user.is_staff:
        abort(404)


@bp.get("/account/two-factor")
@login_required
def manage() -> Any:
    _staff_only()
    return _manage_page()


@bp.post("/account/two-factor/start")
@login_required
def start() -> Any:
    _staff_only()
    form = StartSecondFactorForm()
    if not form.validate_on_submit():
        return _manage_page(422, start_form=form)
    try:
        totp.start_enrolment(current_user)
    except DomainError as exc:
        db_session().rollback()
        flash(str(exc.message), "error")
        return _manage_page(exc.status)
    db_session().commit()
    return redirect(url_for("second_factor.manage"))


@bp.post("/account/two-factor/confirm")
@login_required
def confirm() -> Any:
    _staff_only()
    form = CodeForm()
    if not form.validate_on_submit():
        return _manage_page(422, confirm_form=form)
    try:
        totp.confirm_enrolment(current_user, form.otp.data or "")
    except DomainError as exc:
        db_session().rollback()
        apply_errors(form, exc)
        return _manage_page(exc.status, confirm_form=form)
    db_session().commit()
    flash(_("The second factor is on: signing in now asks for a code."), "success")
    return redirect(url_for("second_factor.manage"))


@bp.post("/account/two-factor/disable")
@login_required
def disable() -> Any:
    _staff_only()
    form = DisableSecondFactorForm()
    if not form.validate_on_submit():
        return _manage_page(422, disable_form=form)
    user = current_user
    attempt = throttle.begin(user.username)
    db_session().commit()
    try:
        totp.disable(user, form.password.data or "")
    except DomainError as exc:
        db_session().rollback()
        if exc.code == "wrong_current_password":
            throttle.failed(attempt)
        db_session().commit()
        apply_errors(form, exc)
        return _manage_page(exc.status, disable_form=form)
    throttle.succeeded(attempt)
    db_session().commit()
    flash(_("The second factor is off."), "success")
    return redirect(url_for("second_factor.manage"))


@bp.route("/admin/two-factor", methods=["GET", "POST"])
@login_required
def required_roles() -> Any:
    if "central_admin" not in current_user.roles:
        abort(403)
    registry = role_registry()
    form = SecondFactorRolesForm()
    form.roles.choices = [(r, role_label(r)) for r in registry.codes if registry.is_staff(r)]
    if request.method == "GET":
        form.roles.data = sorted(totp.required_roles())
    if form.validate_on_submit():
        try:
            totp.set_required_roles(form.roles.data or [], current_user)
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("users/two_factor_roles.html", form=form), exc.status
        db_session().commit()
        flash(_("The roles that require a second factor were saved."), "success")
        return redirect(url_for("second_factor.required_roles"))
    status = 422 if request.method == "POST" else 200
    return render_template("users/two_factor_roles.html", form=form), status


@bp.before_app_request
def _send_to_enrolment() -> Any:
    """A staff member whose role requires a second factor and who has none sees only the
    set-up page (and can sign out) until it is on."""
    req = _cv_request.get().request  # not through the proxies: run on every request
    if req.endpoint in OPEN_WHILE_ENROLLING or req.path.startswith(API_PREFIX):
        return None
    user = request_user()
    if not user.is_authenticated or not user.is_staff:
        return None
    if totp.must_enrol(user):
        flash(_("Your role requires a second factor: set it up to go on."), "info")
        return redirect(url_for("second_factor.manage"))
    return None
