"""Sign-in, sign-out, family registration, password change; user and role administration."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup

from core.audit import services as audit
from core.db import session as db_session
from core.errors import DomainError, Unauthorized
from core.establishments.services import all_establishments
from core.i18n import current_language
from core.identity import privacy, throttle, totp
from core.identity import services as identity
from core.identity.directory import clean_query, list_users
from core.identity.forms import LoginForm, PasswordForm, RegisterForm, RolePermissionsForm, UserForm
from core.identity.models import User
from core.identity.roles import role_label, role_registry
from core.identity.second_factor_views import ask_for_code
from core.portal.access import apply_errors, permission_required
from core.query_args import page_number
from core.redirects import safe_next
from core.scoping import establishment_ids
from core.security import limiter

auth_bp = Blueprint("auth", __name__)
users_bp = Blueprint("users", __name__, url_prefix="/admin")


@auth_bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        attempt = throttle.begin(form.username.data or "")
        db_session().commit()
        try:
            user = identity.authenticate(form.username.data or "", form.password.data or "")
        except Unauthorized as exc:
            db_session().rollback()
            throttle.failed(attempt)
            form.password.errors = [str(exc.message)]  # said once, beside the password
            # never the typed name itself: it may be a password typed in the wrong box
            privacy.record_failed_sign_in(form.username.data or "")
            db_session().commit()
            return render_template("auth/login.html", form=form), 401
        throttle.succeeded(attempt)
        if totp.has_second_factor(user):  # a second step: the code (second_factor_views)
            db_session().commit()
            return ask_for_code(user, request.args.get("next"))
        login_user(user)
        audit.record("user.login", "user", user.id, actor=user)
        db_session().commit()
        default = url_for("portal.dashboard") if user.is_staff else url_for("portal.home")
        return redirect(safe_next(request.args.get("next"), default))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@auth_bp.post("/logout")
@login_required
def logout() -> Any:
    user = db_session().get(User, current_user.id)
    if user is not None:
        identity.end_portal_sessions(user)
        audit.record("user.logout", "user", user.id, actor=user)
        db_session().commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("portal.home"))


@auth_bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register() -> Any:
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = identity.register_visitor(
                username=form.username.data or "",
                password=form.password.data or "",
                full_name=form.full_name.data or "",
                national_id=form.national_id.data or "",
                phone=form.phone.data or "",
                locale=current_language(),
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("auth/register.html", form=form), 422
        db_session().commit()
        login_user(user)
        flash(_("Your account is ready."), "success")
        return redirect(url_for("portal.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@auth_bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = PasswordForm()
    if form.validate_on_submit():
        user = db_session().get(User, current_user.id)
        # wrong current passwords count like failed sign-ins (same counters)
        attempt = throttle.begin(user.username)
        db_session().commit()
        try:
            identity.change_password(
                user, form.current_password.data or "", form.new_password.data or ""
            )
        except DomainError as exc:
            db_session().rollback()
            if exc.code == "wrong_current_password":
                throttle.failed(attempt)
            else:
                throttle.succeeded(attempt)
            db_session().commit()
            apply_errors(form, exc)
            return render_template("auth/password.html", form=form), 422
        throttle.succeeded(attempt)
        db_session().commit()
        logout_user()
        flash(_("Your password was changed. Please sign in again."), "success")
        return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


# --------------------------------------------------------------------------------------------
# User administration
# --------------------------------------------------------------------------------------------


def _fill_choices(form: UserForm) -> None:
    codes = role_registry().codes
    protected = identity.protected_roles()
    allowed_roles = (
        codes
        if "central_admin" in current_user.roles
        else tuple(r for r in codes if r not in protected)
    )
    form.roles.choices = [(r, role_label(r)) for r in allowed_roles]
    ids = establishment_ids(current_user)
    form.establishments.choices = [
        (e.code, f"{e.code} — {e.name(current_language())}")
        for e in all_establishments()
        if ids is None or e.id in ids
    ]


@users_bp.get("/users")
@permission_required("users.manage")
def index() -> Any:
    kind = "family" if request.args.get("kind") == "family" else "staff"
    q = clean_query(request.args.get("q"))
    listing = list_users(current_user, kind, q, page_number(request.args.get("page")))
    return render_template("users/index.html", listing=listing, kind=kind, q=q)


@users_bp.route("/users/new", methods=["GET", "POST"])
@permission_required("users.manage")
def new() -> Any:
    form = UserForm()
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            identity.create_user(
                username=form.username.data or "",
                password=form.password.data or "",
                full_name=form.full_name.data or "",
                roles=form.roles.data or [],
                establishments=form.establishments.data or [],
                actor=current_user,
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("users/form.html", form=form, user=None), exc.status
        db_session().commit()
        flash(_("The user was created."), "success")
        return redirect(url_for("users.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("users/form.html", form=form, user=None), status


@users_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("users.manage")
def edit(user_id: int) -> Any:
    user = db_session().get(User, user_id)
    if user is None or not identity.can_manage(current_user, user):
        abort(404)
    form = UserForm(obj=None if request.method == "POST" else user)
    _fill_choices(form)
    if request.method == "GET":
        form.roles.data = sorted(user.roles)
        form.establishments.data = [e.code for e in user.establishments]
    del form.username
    del form.password
    if form.validate_on_submit():
        try:
            identity.update_user(
                user,
                current_user,
                full_name=form.full_name.data,
                roles=form.roles.data or [],
                establishments=form.establishments.data or [],
                is_active=bool(form.is_active.data),
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("users/form.html", form=form, user=user), exc.status
        db_session().commit()
        flash(_("The user was saved."), "success")
        return redirect(url_for("users.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("users/form.html", form=form, user=user), status


@users_bp.route("/roles", methods=["GET"])
@permission_required("roles.manage")
def roles() -> Any:
    grants = identity.role_permissions()
    perms = identity.declared_permissions()
    return render_template(
        "users/roles.html",
        roles=[(r, role_label(r)) for r in role_registry().codes],
        grants=grants,
        permissions=perms,
    )


@users_bp.route("/roles/<role>", methods=["GET", "POST"])
@permission_required("roles.manage")
def edit_role(role: str) -> Any:
    if role not in role_registry():
        abort(404)
    form = RolePermissionsForm()
    form.permissions.choices = [
        (p.code, Markup('{} <code dir="ltr">{}</code>').format(p.label, p.code))
        for p in identity.declared_permissions()
    ]
    if request.method == "GET":
        form.permissions.data = sorted(identity.role_permissions().get(role, set()))
    if form.validate_on_submit():
        try:
            identity.set_role_permissions(role, form.permissions.data or [], current_user)
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template(
                "users/role.html", form=form, role=role, label=role_label(role)
            ), exc.status
        db_session().commit()
        flash(_("The role's permissions were saved."), "success")
        return redirect(url_for("users.roles"))
    status = 422 if request.method == "POST" else 200
    return render_template("users/role.html", form=form, role=role, label=role_label(role)), status
